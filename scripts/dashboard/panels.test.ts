import { describe, expect, it } from "vitest";
import { ROOT } from "../stack/settings.ts";
import { PANEL_TYPES, panelSlug, parseDashboard, parsePanel, readDashboard } from "./panels.ts";

const timeseries = (changes: Record<string, unknown> = {}) => ({
  id: 3,
  title: "Latency",
  type: "timeseries",
  datasource: { type: "prometheus", uid: "prometheus" },
  gridPos: { x: 0, y: 8, w: 12, h: 8 },
  fieldConfig: { defaults: { unit: "s" }, overrides: [] },
  targets: [{ refId: "A", expr: "up", legendFormat: "{{job}}" }],
  ...changes,
});
const stat = (changes: Record<string, unknown> = {}) =>
  timeseries({ type: "stat", fieldConfig: { defaults: {} }, ...changes });

describe("reading the dashboard Grafana provisions", () => {
  it("reads every panel of deployments/grafana/dashboards/fortress.json, of the three types drawn", () => {
    const { panels, time } = readDashboard(ROOT);
    expect(panels.length).toBeGreaterThanOrEqual(19);
    expect(new Set(panels.map((p) => p.type))).toEqual(new Set(PANEL_TYPES));
    expect(time).toEqual({ from: "now-1h", to: "now" });
  });

  it("takes a panel's unit, min, max and targets, legendFormat __auto as none", () => {
    const panel = parsePanel(
      timeseries({
        fieldConfig: { defaults: { unit: "percentunit", min: 0, max: 1 } },
        targets: [{ expr: "a", legendFormat: "__auto" }, { expr: "b" }],
      }),
      0,
    );
    expect(panel).toMatchObject({ unit: "percentunit", min: 0, max: 1 });
    expect(panel.targets).toEqual([
      { expr: "a", legendFormat: "" },
      { expr: "b", legendFormat: "" },
    ]);
  });

  it("gives a panel with no unit Grafana's short, and a stat with no calcs lastNotNull", () => {
    const panel = parsePanel(stat(), 0);
    expect(panel.unit).toBe("short");
    expect(panel.calcs).toEqual(["lastNotNull"]);
  });

  it("gives a panel with no thresholds Grafana's default ones: green, red from 80", () => {
    expect(parsePanel(stat(), 0).thresholds).toEqual([
      { color: "green", value: null },
      { color: "red", value: 80 },
    ]);
  });

  it("reads a legend's placement, visibility and calcs, and shows one below by default", () => {
    expect(parsePanel(timeseries(), 0).legend).toEqual({
      show: true,
      placement: "bottom",
      calcs: [],
    });
    const legend = { displayMode: "table", placement: "right", calcs: ["max", "mean"] };
    expect(parsePanel(timeseries({ options: { legend } }), 0).legend).toEqual({
      show: true,
      placement: "right",
      calcs: ["max", "mean"],
    });
    const hidden = { options: { legend: { displayMode: "hidden" } } };
    expect(parsePanel(timeseries(hidden), 0).legend.show).toBe(false);
    const off = { options: { legend: { showLegend: false } } };
    expect(parsePanel(timeseries(off), 0).legend.show).toBe(false);
  });
});

describe("what the renderer does not honour fails, naming the panel and the field", () => {
  const fails = (panel: object, message: string) =>
    expect(() => parsePanel(panel, 0)).toThrow(message);

  it("fails on a panel type it does not draw", () => {
    fails(timeseries({ type: "heatmap" }), 'panel 3 "Latency" type: heatmap not known');
  });

  it("fails on a unit it does not format", () => {
    fails(
      timeseries({ fieldConfig: { defaults: { unit: "dtdurationms" } } }),
      'panel 3 "Latency" fieldConfig.defaults.unit: dtdurationms not known',
    );
  });

  it("fails on a stat's calc it does not compute", () => {
    fails(
      stat({ options: { reduceOptions: { calcs: ["p95"] } } }),
      'panel 3 "Latency" options.reduceOptions.calcs[0]: p95 not known',
    );
  });

  it("fails on a legend's calc it does not compute", () => {
    fails(
      timeseries({ options: { legend: { calcs: ["range"] } } }),
      "options.legend.calcs[0]: range not known",
    );
  });

  it("fails on an unknown key of a panel", () => {
    fails(timeseries({ transformations: [] }), 'panel 3 "Latency": transformations not known');
  });

  it("fails on an unknown key of fieldConfig.defaults", () => {
    fails(
      timeseries({ fieldConfig: { defaults: { decimals: 2 } } }),
      "fieldConfig.defaults (a timeseries): decimals not known",
    );
  });

  it("fails on a key that another panel type honours but this one does not (min on a stat)", () => {
    fails(
      stat({ fieldConfig: { defaults: { min: 0 } } }),
      "fieldConfig.defaults (a stat): min not known",
    );
  });

  it("fails on options of another panel type (reduceOptions on a time series)", () => {
    fails(
      timeseries({ options: { reduceOptions: { calcs: ["max"] } } }),
      "options (a timeseries): reduceOptions not known",
    );
  });

  it("fails on an unknown key of a legend, of reduceOptions, of a target", () => {
    fails(
      timeseries({ options: { legend: { sortBy: "Max" } } }),
      "options.legend: sortBy not known",
    );
    fails(
      stat({ options: { reduceOptions: { calcs: ["max"], fields: "" } } }),
      "options.reduceOptions: fields not known",
    );
    fails(
      timeseries({ targets: [{ expr: "up", instant: true }] }),
      "targets[0]: instant not known",
    );
  });

  it("fails on a field override", () => {
    fails(
      timeseries({ fieldConfig: { defaults: {}, overrides: [{ matcher: {} }] } }),
      "fieldConfig.overrides: an override is not known",
    );
  });

  it("fails on percentage thresholds, a threshold colour it does not know, and a step's unknown key", () => {
    const thresholds = (value: object) =>
      stat({ fieldConfig: { defaults: { thresholds: value } } });
    fails(thresholds({ mode: "percentage", steps: [] }), "thresholds.mode: percentage not known");
    fails(
      thresholds({ mode: "absolute", steps: [{ color: "teal", value: null }] }),
      "thresholds.steps[0].color: teal not known",
    );
    fails(
      thresholds({ mode: "absolute", steps: [{ color: "red", value: null, label: "x" }] }),
      "thresholds.steps[0]: label not known",
    );
  });

  it("fails on a data source that is not Prometheus", () => {
    fails(
      timeseries({ datasource: { type: "loki", uid: "loki" } }),
      "datasource.type: loki not known",
    );
  });

  it("fails on an unknown key of the dashboard itself", () => {
    expect(() =>
      parseDashboard({
        title: "t",
        time: { from: "now-1h", to: "now" },
        panels: [],
        templating: {},
      }),
    ).toThrow("the dashboard: templating not known");
  });

  it("names a panel without an id by its place in the file", () => {
    const { id: _, ...anonymous } = timeseries({ type: "gauge" });
    expect(() => parsePanel(anonymous, 4)).toThrow('panel #4 "Latency" type: gauge not known');
  });
});

describe("a panel's file name", () => {
  it("is its id and its title's first words, in lower case and dashes", () => {
    const panel = parsePanel(
      timeseries({ title: "Latency p50 / p99 by variant (gateway), and much more after that" }),
      0,
    );
    expect(panelSlug(panel)).toBe("3-latency-p50-p99-by-variant-gateway-and");
  });

  it("is its place in the file when it has no id", () => {
    const { id: _, ...anonymous } = timeseries({ title: "Host CPU busy (5m)" });
    expect(panelSlug(parsePanel(anonymous, 7))).toBe("7-host-cpu-busy-5m");
  });
});
