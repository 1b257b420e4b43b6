import { describe, expect, it } from "vitest";
import { ROOT } from "../stack/settings.ts";
import { legendOf, parseDashboard, readDashboard, reduce, thresholdColor } from "./panels.ts";
import { parseTime } from "./time-range.ts";
import { formatValue, scaleFor } from "./units.ts";

const panel = (overrides: object = {}) => ({
  id: 1,
  title: "Latency",
  type: "timeseries",
  gridPos: { x: 0, y: 0, w: 12, h: 8 },
  fieldConfig: { defaults: { unit: "s" }, overrides: [] },
  targets: [{ refId: "A", expr: "up", legendFormat: "{{job}}" }],
  ...overrides,
});
const dashboard = (...panels: object[]) => ({
  title: "t",
  time: { from: "now-1h", to: "now" },
  panels,
});

describe("the dashboard's panels as make dashboard reads them", () => {
  it("reads every panel of the dashboard Grafana provisions", () => {
    const { panels } = readDashboard(ROOT);
    expect(panels.length).toBeGreaterThanOrEqual(19);
    expect(new Set(panels.map((p) => p.type))).toEqual(new Set(["timeseries", "stat", "barchart"]));
  });

  it("fails on a panel type, unit, reduction, threshold mode or key it does not honour, naming the panel", () => {
    expect(() => parseDashboard(dashboard(panel({ type: "heatmap" })))).toThrow(
      'panel 1 "Latency": type heatmap not known',
    );
    expect(() =>
      parseDashboard(dashboard(panel({ fieldConfig: { defaults: { unit: "dtdurationms" } } }))),
    ).toThrow("unit dtdurationms not known");
    expect(() =>
      parseDashboard(dashboard(panel({ options: { reduceOptions: { calcs: ["p95"] } } }))),
    ).toThrow("reduceOptions.calcs p95 not known");
    expect(() =>
      parseDashboard(
        dashboard(
          panel({ fieldConfig: { defaults: { thresholds: { mode: "percentage", steps: [] } } } }),
        ),
      ),
    ).toThrow("thresholds mode percentage not known");
    expect(() => parseDashboard(dashboard(panel({ transformations: [] })))).toThrow(
      'panel 1 "Latency": transformations not known',
    );
    expect(() =>
      parseDashboard(dashboard(panel({ fieldConfig: { defaults: { decimals: 2 } } }))),
    ).toThrow("fieldConfig.defaults: decimals not known");
    expect(() =>
      parseDashboard(dashboard(panel({ fieldConfig: { defaults: {}, overrides: [{}] } }))),
    ).toThrow("fieldConfig.overrides not known");
    expect(() =>
      parseDashboard(dashboard(panel({ targets: [{ expr: "up", instant: true }] }))),
    ).toThrow("target: instant not known");
  });

  it("names a series by its legendFormat as Grafana does, and by its labels without one", () => {
    expect(
      legendOf("{{variant}} {{ route }} {{missing}}", { variant: "v1", route: "stable" }),
    ).toBe("v1 stable ");
    expect(legendOf("", { __name__: "up", job: "node" })).toBe('up{job="node"}');
  });

  it("reduces a series as a stat's calc does, nulls skipped but by last", () => {
    const values = [3, null, 1, 5, null];
    expect(reduce(values, "lastNotNull")).toBe(5);
    expect(reduce(values, "last")).toBeUndefined();
    expect(reduce(values, "mean")).toBe(3);
    expect(reduce(values, "max")).toBe(5);
    expect(reduce(values, "min")).toBe(1);
    expect(reduce(values, "sum")).toBe(9);
    expect(reduce([null], "lastNotNull")).toBeUndefined();
  });

  it("colours a value by the highest threshold step at or below it", () => {
    const steps = [
      { color: "red", value: null },
      { color: "orange", value: 0 },
      { color: "green", value: 0.25 },
    ];
    expect(thresholdColor(steps, -3)).toBe("red");
    expect(thresholdColor(steps, 0)).toBe("orange");
    expect(thresholdColor(steps, 0.25)).toBe("green");
    expect(thresholdColor([], 1)).toBeUndefined();
  });
});

describe("values in a panel's unit", () => {
  it("writes each unit as Grafana does, scaled to the largest value", () => {
    expect(formatValue("s", 0.0123)).toBe("12.3 ms");
    expect(formatValue("s", 2.5)).toBe("2.50 s");
    expect(formatValue("percentunit", 0.456)).toBe("46%");
    expect(formatValue("percentunit", 0.0123)).toBe("1.2%");
    expect(formatValue("percent", 45.6)).toBe("45.6%");
    expect(formatValue("reqps", 3.21)).toBe("3.21 req/s");
    expect(formatValue("bytes", 1.5 * 1024 ** 3)).toBe("1.5 GiB");
    expect(formatValue("short", 1)).toBe("1");
    expect(formatValue("short", 12_345)).toBe("12.3 K");
    expect(scaleFor("s", 0.5)).toEqual({ divisor: 1e-3, suffix: " ms", digits: 0 });
  });
});

describe("the time range", () => {
  const now = 1_800_000_000;
  it("reads Grafana's relative times and ISO times, and refuses anything else", () => {
    expect(parseTime("now", now)).toBe(now);
    expect(parseTime("now-15m", now)).toBe(now - 900);
    expect(parseTime("now-6h", now)).toBe(now - 6 * 3600);
    expect(parseTime("now-2d", now)).toBe(now - 2 * 86400);
    expect(parseTime("2026-12-01T12:00:00Z", now)).toBe(Date.parse("2026-12-01T12:00:00Z") / 1000);
    expect(() => parseTime("yesterday", now)).toThrow("is not a time");
    expect(() => parseTime("now-1y", now)).toThrow("is not a time");
  });
});
