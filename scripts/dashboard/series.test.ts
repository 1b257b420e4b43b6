import { describe, expect, it } from "vitest";
import { barOf, breakGaps, legendOf, reduce, type Series, thresholdColor } from "./series.ts";

describe("a series' legend name", () => {
  it("replaces each {{label}} by the series' value of it, spaces inside the braces allowed", () => {
    expect(legendOf("p99 {{variant}} {{ route }}", { variant: "v1", route: "stable" }, "q")).toBe(
      "p99 v1 stable",
    );
  });

  it("writes nothing for a label the series does not have, as Grafana does", () => {
    expect(legendOf("{{variant}} {{missing}}", { variant: "v1" }, "q")).toBe("v1 ");
  });

  it("is the series' labels as PromQL writes them when legendFormat is empty", () => {
    expect(legendOf("", { __name__: "up", job: "node", instance: "a:1" }, "up")).toBe(
      'up{job="node", instance="a:1"}',
    );
    expect(legendOf("", { job: "node" }, "sum by (job) (up)")).toBe('{job="node"}');
  });

  it("is the query itself when legendFormat is empty and the series has no labels", () => {
    expect(legendOf("", {}, "sum(rate(x[1m]))")).toBe("sum(rate(x[1m]))");
  });
});

describe("a bar's group", () => {
  const series = (legendFormat: string, labels: Record<string, string>): Series => ({
    name: legendOf(legendFormat, labels, "q"),
    labels,
    legendFormat,
    points: [[0, 1]],
  });

  it("is what the legend format says before its last label, the bar that label's value", () => {
    expect(
      barOf(
        series("{{variant}} {{route}} {{label}}", { variant: "v1", route: "stable", label: "joy" }),
      ),
    ).toEqual({ group: "v1 stable", bar: "joy" });
  });

  it("is the series alone when the format does not end in a label or has only one", () => {
    expect(barOf(series("{{label}}", { label: "joy" }))).toEqual({ group: "joy", bar: "joy" });
    expect(barOf(series("{{label}} share", { label: "joy" }))).toEqual({
      group: "joy share",
      bar: "joy share",
    });
  });
});

describe("gaps in a series", () => {
  it("get a null a step after the last sample before a gap longer than a step and a half", () => {
    expect(
      breakGaps(
        [
          [0, 1],
          [10, 2],
          [40, 3],
          [50, 4],
        ],
        10,
      ),
    ).toEqual([
      [0, 1],
      [10, 2],
      [20, null],
      [40, 3],
      [50, 4],
    ]);
  });

  it("are not made where samples are a step apart", () => {
    const even: [number, number][] = [
      [0, 1],
      [10, 2],
      [20, 3],
    ];
    expect(breakGaps(even, 10)).toEqual(even);
  });
});

describe("a stat's reductions", () => {
  const values = [3, null, 1, 5, null];
  it("lastNotNull is the last value that is not null", () => {
    expect(reduce(values, "lastNotNull")).toBe(5);
  });
  it("last is the last point, null included (no value)", () => {
    expect(reduce(values, "last")).toBeUndefined();
    expect(reduce([1, 2], "last")).toBe(2);
  });
  it("mean, max, min and sum skip nulls", () => {
    expect(reduce(values, "mean")).toBe(3);
    expect(reduce(values, "max")).toBe(5);
    expect(reduce(values, "min")).toBe(1);
    expect(reduce(values, "sum")).toBe(9);
  });
  it("skip NaN as Grafana skips it, and give no value for a series of none", () => {
    expect(reduce([1, Number.NaN], "lastNotNull")).toBe(1);
    expect(reduce([null], "lastNotNull")).toBeUndefined();
    expect(reduce([], "mean")).toBeUndefined();
  });
});

describe("a value's threshold colour", () => {
  const steps = [
    { color: "red", value: null },
    { color: "orange", value: 0 },
    { color: "green", value: 0.25 },
  ];
  it("is the base step's below every other step", () => {
    expect(thresholdColor(steps, -3)).toBe("red");
  });
  it("is a step's from its value up, inclusive, to the next step's", () => {
    expect(thresholdColor(steps, 0)).toBe("orange");
    expect(thresholdColor(steps, 0.2499)).toBe("orange");
    expect(thresholdColor(steps, 0.25)).toBe("green");
    expect(thresholdColor(steps, 7)).toBe("green");
  });
  it("is none without steps", () => {
    expect(thresholdColor([], 1)).toBeUndefined();
  });
});
