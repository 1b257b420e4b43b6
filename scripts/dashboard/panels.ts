/**
 * The Grafana dashboard's panels (deployments/grafana/dashboards/fortress.json, the file Grafana
 * provisions), read for `make dashboard`. Every key the file uses is known here: a key, panel
 * type, unit or reduction this renderer does not honour fails with the panel's title, rather than
 * draw something Grafana would draw otherwise.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const DASHBOARD_FILE = "deployments/grafana/dashboards/fortress.json";

export const PANEL_TYPES = ["timeseries", "stat", "barchart"] as const;
export type PanelType = (typeof PANEL_TYPES)[number];
export const UNITS = ["short", "s", "percentunit", "percent", "reqps", "bytes"] as const;
export type Unit = (typeof UNITS)[number];
/** Grafana's reductions of a series to one value (a stat's), those this renderer computes. */
export const CALCS = ["lastNotNull", "last", "mean", "max", "min", "sum"] as const;
export type Calc = (typeof CALCS)[number];

export interface Threshold {
  color: string;
  /** null: the base step, below every other. */
  value: number | null;
}

export interface Target {
  expr: string;
  legendFormat: string;
}

export interface Panel {
  id: number;
  title: string;
  type: PanelType;
  gridPos: { x: number; y: number; w: number; h: number };
  unit: Unit;
  min?: number;
  max?: number;
  thresholds: Threshold[];
  calc: Calc;
  targets: Target[];
}

export interface Dashboard {
  title: string;
  /** Its own time range, Grafana's relative form (now-1h). */
  time: { from: string; to: string };
  panels: Panel[];
}

const KNOWN = {
  dashboard: ["uid", "title", "tags", "timezone", "refresh", "schemaVersion", "time", "panels"],
  panel: ["id", "title", "type", "datasource", "gridPos", "fieldConfig", "options", "targets"],
  fieldConfig: ["defaults", "overrides"],
  defaults: ["unit", "min", "max", "thresholds"],
  thresholds: ["mode", "steps"],
  options: ["reduceOptions"],
  reduceOptions: ["calcs"],
  target: ["refId", "expr", "legendFormat", "datasource"],
};

function checkKeys(what: string, value: object, known: string[]): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new Error(
      `${what}: ${unknown.join(", ")} not known to make dashboard (scripts/dashboard)`,
    );
}

/** A dashboard's JSON as the renderer honours it; anything else is an error naming the panel. */
export function parseDashboard(json: any): Dashboard {
  checkKeys("the dashboard", json, KNOWN.dashboard);
  const panels = (json.panels as any[]).map((raw): Panel => {
    const where = `panel ${raw.id} "${raw.title}"`;
    checkKeys(where, raw, KNOWN.panel);
    if (!PANEL_TYPES.includes(raw.type))
      throw new Error(`${where}: type ${raw.type} not known to make dashboard`);
    const fieldConfig = raw.fieldConfig ?? {};
    checkKeys(`${where} fieldConfig`, fieldConfig, KNOWN.fieldConfig);
    if ((fieldConfig.overrides ?? []).length > 0)
      throw new Error(`${where}: fieldConfig.overrides not known to make dashboard`);
    const defaults = fieldConfig.defaults ?? {};
    checkKeys(`${where} fieldConfig.defaults`, defaults, KNOWN.defaults);
    const unit = defaults.unit ?? "short";
    if (!UNITS.includes(unit))
      throw new Error(`${where}: unit ${unit} not known to make dashboard`);
    const thresholds = defaults.thresholds ?? { mode: "absolute", steps: [] };
    checkKeys(`${where} thresholds`, thresholds, KNOWN.thresholds);
    if (thresholds.mode !== "absolute")
      throw new Error(`${where}: thresholds mode ${thresholds.mode} not known to make dashboard`);
    const options = raw.options ?? {};
    checkKeys(`${where} options`, options, KNOWN.options);
    const reduce = options.reduceOptions ?? { calcs: ["lastNotNull"] };
    checkKeys(`${where} options.reduceOptions`, reduce, KNOWN.reduceOptions);
    if (reduce.calcs.length !== 1 || !CALCS.includes(reduce.calcs[0]))
      throw new Error(`${where}: reduceOptions.calcs ${reduce.calcs} not known to make dashboard`);
    for (const target of raw.targets) checkKeys(`${where} target`, target, KNOWN.target);
    return {
      id: raw.id,
      title: raw.title,
      type: raw.type,
      gridPos: raw.gridPos,
      unit,
      min: defaults.min,
      max: defaults.max,
      thresholds: thresholds.steps,
      calc: reduce.calcs[0],
      targets: raw.targets.map((t: any) => ({ expr: t.expr, legendFormat: t.legendFormat ?? "" })),
    };
  });
  return { title: json.title, time: json.time, panels };
}

export const readDashboard = (root: string) =>
  parseDashboard(JSON.parse(readFileSync(join(root, DASHBOARD_FILE), "utf8")));

/**
 * A series' name as Grafana's legendFormat makes it: each {{label}} replaced by the series'
 * value of it (an empty string when it has none); no format, the series' labels.
 */
export function legendOf(format: string, labels: Record<string, string>): string {
  if (format === "") {
    const { __name__, ...rest } = labels;
    const inner = Object.entries(rest)
      .map(([k, v]) => `${k}="${v}"`)
      .join(", ");
    return `${__name__ ?? ""}{${inner}}`;
  }
  return format.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, name) => labels[name] ?? "");
}

/** A series reduced to one value, as a stat panel's calc does; undefined when it has none. */
export function reduce(values: (number | null)[], calc: Calc): number | undefined {
  const present = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  if (calc === "last") return values.at(-1) ?? undefined;
  if (present.length === 0) return undefined;
  switch (calc) {
    case "lastNotNull":
      return present.at(-1);
    case "mean":
      return present.reduce((a, b) => a + b, 0) / present.length;
    case "max":
      return Math.max(...present);
    case "min":
      return Math.min(...present);
    case "sum":
      return present.reduce((a, b) => a + b, 0);
  }
}

/** The colour of the highest step at or below the value (Grafana's absolute thresholds). */
export function thresholdColor(steps: Threshold[], value: number): string | undefined {
  let color: string | undefined;
  for (const step of steps) if (step.value === null || value >= step.value) color = step.color;
  return color;
}
