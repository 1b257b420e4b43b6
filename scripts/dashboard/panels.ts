/**
 * The Grafana dashboard's panels (deployments/grafana/dashboards/fortress.json, the file Grafana
 * provisions), read for `make dashboard`. Each panel type has its own list of the keys this
 * renderer honours: a key, panel type, unit, reduction or colour it does not know fails, naming
 * the panel and the field, rather than be drawn otherwise than Grafana would draw it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cssColor, GRAFANA_COLORS } from "./colors.ts";

export const DASHBOARD_FILE = "deployments/grafana/dashboards/fortress.json";

export const PANEL_TYPES = ["timeseries", "stat", "barchart"] as const;
export type PanelType = (typeof PANEL_TYPES)[number];
export const UNITS = ["none", "short", "s", "percentunit", "percent", "reqps", "bytes"] as const;
export type Unit = (typeof UNITS)[number];
/** Grafana's reductions of a series to one value (a stat's, a legend's), those computed here. */
export const CALCS = ["lastNotNull", "last", "mean", "max", "min", "sum"] as const;
export type Calc = (typeof CALCS)[number];

export interface Threshold {
  color: string;
  /** null: the base step, below every other. */
  value: number | null;
}

export interface Target {
  expr: string;
  /** Grafana's template of a series' name: "" (or "__auto") names it by its labels. */
  legendFormat: string;
}

export interface Legend {
  show: boolean;
  placement: "bottom" | "right";
  /** Values of each series written after its name (Grafana's legend "values"). */
  calcs: Calc[];
}

export interface Panel {
  id?: number;
  /** Its place in the file, which names it when it has no id. */
  index: number;
  title: string;
  type: PanelType;
  gridPos: { x: number; y: number; w: number; h: number };
  unit: Unit;
  min?: number;
  max?: number;
  thresholds: Threshold[];
  /** A stat's reductions: a value each, of each series. */
  calcs: Calc[];
  legend: Legend;
  targets: Target[];
}

export interface Dashboard {
  title: string;
  /** Its own time range, Grafana's form (now-1h, now). */
  time: { from: string; to: string };
  panels: Panel[];
}

/**
 * Keys that change nothing in a drawing: the dashboard's identity and Grafana's UI behaviour.
 * `timezone: browser` is what is drawn here too (the machine's local time).
 */
const DASHBOARD_KEYS = [
  "uid",
  "title",
  "tags",
  "timezone",
  "refresh",
  "schemaVersion",
  "time",
  "panels",
];
const PANEL_KEYS = [
  "id",
  "title",
  "type",
  "datasource",
  "gridPos",
  "fieldConfig",
  "options",
  "targets",
];
const TARGET_KEYS = ["refId", "expr", "legendFormat", "datasource"];
const FIELD_CONFIG_KEYS = ["defaults", "overrides"];
const THRESHOLDS_KEYS = ["mode", "steps"];
const STEP_KEYS = ["color", "value"];
const LEGEND_KEYS = ["showLegend", "displayMode", "placement", "calcs"];
/**
 * What each panel type honours of fieldConfig.defaults and options. A time series' thresholds are
 * accepted and not drawn, as in Grafana, whose default thresholdsStyle is "off"; a stat has no
 * axis for min and max.
 */
const BY_TYPE: Record<PanelType, { defaults: string[]; options: string[] }> = {
  timeseries: { defaults: ["unit", "min", "max", "thresholds"], options: ["legend"] },
  stat: { defaults: ["unit", "thresholds"], options: ["reduceOptions"] },
  barchart: { defaults: ["unit", "min", "max"], options: ["legend"] },
};
const REDUCE_OPTIONS_KEYS = ["calcs"];
/** What Grafana gives a panel whose JSON has no thresholds: green, red from 80. */
const GRAFANA_DEFAULT_THRESHOLDS: Threshold[] = [
  { color: "green", value: null },
  { color: "red", value: 80 },
];

type Json = Record<string, unknown>;

const NOT_KNOWN = "not known to make dashboard (scripts/dashboard/panels.ts)";

function objectAt(where: string, value: unknown, known: readonly string[]): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${where}: not an object`);
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new Error(`${where}: ${unknown.join(", ")} ${NOT_KNOWN}`);
  return value as Json;
}

function arrayAt(where: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: not a list`);
  return value;
}

function stringAt(where: string, value: unknown): string {
  if (typeof value !== "string") throw new Error(`${where}: not a string`);
  return value;
}

function numberAt(where: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new Error(`${where}: not a number`);
  return value;
}

const optionalNumberAt = (where: string, value: unknown) =>
  value === undefined ? undefined : numberAt(where, value);

function oneOf<T extends string>(where: string, value: unknown, known: readonly T[]): T {
  if (!known.includes(value as T)) throw new Error(`${where}: ${String(value)} ${NOT_KNOWN}`);
  return value as T;
}

function datasourceAt(where: string, value: unknown): void {
  if (value === undefined) return;
  const datasource = objectAt(where, value, ["type", "uid"]);
  oneOf(`${where}.type`, datasource.type, ["prometheus"]);
}

function calcsAt(where: string, value: unknown): Calc[] {
  return arrayAt(where, value).map((calc, i) => oneOf(`${where}[${i}]`, calc, CALCS));
}

function thresholdsAt(where: string, value: unknown): Threshold[] {
  const thresholds = objectAt(where, value, THRESHOLDS_KEYS);
  // Percentage thresholds are relative to min and max, which a stat here has not.
  oneOf(`${where}.mode`, thresholds.mode, ["absolute"]);
  return arrayAt(`${where}.steps`, thresholds.steps).map((raw, i) => {
    const step = objectAt(`${where}.steps[${i}]`, raw, STEP_KEYS);
    const color = stringAt(`${where}.steps[${i}].color`, step.color);
    if (cssColor(color) === undefined)
      throw new Error(
        `${where}.steps[${i}].color: ${color} ${NOT_KNOWN} (a hex or one of ${Object.keys(GRAFANA_COLORS).join(", ")})`,
      );
    return {
      color,
      value: step.value === null ? null : numberAt(`${where}.steps[${i}].value`, step.value),
    };
  });
}

function legendAt(where: string, value: unknown): Legend {
  if (value === undefined) return { show: true, placement: "bottom", calcs: [] };
  const legend = objectAt(where, value, LEGEND_KEYS);
  const displayMode =
    legend.displayMode === undefined
      ? "list"
      : oneOf(`${where}.displayMode`, legend.displayMode, ["list", "table", "hidden"]);
  if (legend.showLegend !== undefined && typeof legend.showLegend !== "boolean")
    throw new Error(`${where}.showLegend: not true or false`);
  return {
    show: legend.showLegend !== false && displayMode !== "hidden",
    placement:
      legend.placement === undefined
        ? "bottom"
        : oneOf(`${where}.placement`, legend.placement, ["bottom", "right"]),
    calcs: legend.calcs === undefined ? [] : calcsAt(`${where}.calcs`, legend.calcs),
  };
}

function targetAt(where: string, value: unknown): Target {
  const target = objectAt(where, value, TARGET_KEYS);
  datasourceAt(`${where}.datasource`, target.datasource);
  const legendFormat =
    target.legendFormat === undefined ? "" : stringAt(`${where}.legendFormat`, target.legendFormat);
  return {
    expr: stringAt(`${where}.expr`, target.expr),
    legendFormat: legendFormat === "__auto" ? "" : legendFormat,
  };
}

export function parsePanel(value: unknown, index: number): Panel {
  const loose = (typeof value === "object" && value !== null ? value : {}) as Json;
  const where = `panel ${loose.id ?? `#${index}`} "${String(loose.title)}"`;
  const raw = objectAt(where, value, PANEL_KEYS);
  const type = oneOf(`${where} type`, raw.type, PANEL_TYPES);
  const known = BY_TYPE[type];
  datasourceAt(`${where} datasource`, raw.datasource);
  const gridPos = objectAt(`${where} gridPos`, raw.gridPos, ["x", "y", "w", "h"]);
  const fieldConfig = objectAt(`${where} fieldConfig`, raw.fieldConfig ?? {}, FIELD_CONFIG_KEYS);
  if (arrayAt(`${where} fieldConfig.overrides`, fieldConfig.overrides ?? []).length > 0)
    throw new Error(`${where} fieldConfig.overrides: an override is ${NOT_KNOWN}`);
  const defaults = objectAt(
    `${where} fieldConfig.defaults (a ${type})`,
    fieldConfig.defaults ?? {},
    known.defaults,
  );
  const options = objectAt(`${where} options (a ${type})`, raw.options ?? {}, known.options);
  const reduceOptions = objectAt(
    `${where} options.reduceOptions`,
    options.reduceOptions ?? {},
    REDUCE_OPTIONS_KEYS,
  );
  const calcs =
    reduceOptions.calcs === undefined
      ? (["lastNotNull"] as Calc[])
      : calcsAt(`${where} options.reduceOptions.calcs`, reduceOptions.calcs);
  if (calcs.length === 0) throw new Error(`${where} options.reduceOptions.calcs: empty`);
  const targets = arrayAt(`${where} targets`, raw.targets).map((target, i) =>
    targetAt(`${where} targets[${i}]`, target),
  );
  if (targets.length === 0) throw new Error(`${where} targets: none`);
  return {
    id: optionalNumberAt(`${where} id`, raw.id),
    index,
    title: stringAt(`${where} title`, raw.title),
    type,
    gridPos: {
      x: numberAt(`${where} gridPos.x`, gridPos.x),
      y: numberAt(`${where} gridPos.y`, gridPos.y),
      w: numberAt(`${where} gridPos.w`, gridPos.w),
      h: numberAt(`${where} gridPos.h`, gridPos.h),
    },
    unit:
      defaults.unit === undefined
        ? "short"
        : oneOf(`${where} fieldConfig.defaults.unit`, defaults.unit, UNITS),
    min: optionalNumberAt(`${where} fieldConfig.defaults.min`, defaults.min),
    max: optionalNumberAt(`${where} fieldConfig.defaults.max`, defaults.max),
    thresholds:
      defaults.thresholds === undefined
        ? GRAFANA_DEFAULT_THRESHOLDS
        : thresholdsAt(`${where} fieldConfig.defaults.thresholds`, defaults.thresholds),
    calcs,
    legend: legendAt(`${where} options.legend`, options.legend),
    targets,
  };
}

/** A dashboard's JSON as the renderer honours it; anything else is an error naming the panel. */
export function parseDashboard(json: unknown): Dashboard {
  const dashboard = objectAt("the dashboard", json, DASHBOARD_KEYS);
  const time = objectAt("the dashboard's time", dashboard.time, ["from", "to"]);
  return {
    title: stringAt("the dashboard's title", dashboard.title),
    time: {
      from: stringAt("the dashboard's time.from", time.from),
      to: stringAt("the dashboard's time.to", time.to),
    },
    panels: arrayAt("the dashboard's panels", dashboard.panels).map(parsePanel),
  };
}

export const readDashboard = (root: string) =>
  parseDashboard(JSON.parse(readFileSync(join(root, DASHBOARD_FILE), "utf8")));

/** A file name's part for a panel: its id (its place when it has none) and its title's words. */
export function panelSlug(panel: Panel): string {
  const words = panel.title
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "");
  // Whole words, up to about 40 characters: a name to tell the files apart, not the whole title.
  let slug = words[0] ?? "panel";
  for (const word of words.slice(1)) {
    if (slug.length + 1 + word.length > 40) break;
    slug = `${slug}-${word}`;
  }
  return `${panel.id ?? panel.index}-${slug}`;
}
