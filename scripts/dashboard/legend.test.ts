import { describe, expect, it } from "vitest";
import { legendLayout, legendNames, legendValues } from "./legend.ts";
import { panelOf } from "./test-panel.ts";
import type { Series } from "./series.ts";

const seriesOf = (name: string, values: (number | null)[]): Series => ({
  name,
  labels: {},
  legendFormat: "",
  points: values.map((v, i) => [i * 10, v]),
});

describe("a legend below a chart", () => {
  it("takes as many columns as its longest name lets fit, at most four", () => {
    expect(legendLayout(["a", "b", "c", "d", "e", "f"], 600).columns).toBe(4);
    expect(legendLayout(["x".repeat(40), "b"], 600).columns).toBe(1);
    expect(legendLayout(["only"], 600).columns).toBe(1);
  });

  it("shows at most eight rows of names (vega writes how many more in the last)", () => {
    const names = Array.from({ length: 50 }, (_, i) => `series ${i}`);
    const layout = legendLayout(names, 600);
    expect(layout.shown).toBe(layout.columns * 8);
    expect(legendLayout(["a", "b"], 600).shown).toBe(2);
  });
});

describe("a legend's names", () => {
  const withLegend = (legend: object) => panelOf("timeseries", {}, { legend });

  it("end with the values of the legend's calcs, which are never cut, the name before them is", () => {
    const panel = withLegend({ placement: "right", calcs: ["max"] });
    const series = seriesOf("consumer-with-a-very-long-name-indeed stable 200", [1, 3]);
    const values = legendValues(panel, series);
    expect(values).toBe(" · Max: 3");
    const [name] = legendNames(panel, [series.name], 600, [values]);
    expect(name).toMatch(/^consumer-with.*….*stable 200 · Max: 3$/);
  });

  it("are kept whole when the legend is hidden", () => {
    const name = "x".repeat(200);
    expect(legendNames(withLegend({ showLegend: false }), [name], 600)).toEqual([name]);
  });
});
