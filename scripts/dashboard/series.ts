/**
 * What Grafana does to a query's series before drawing them: names them by the legend format,
 * breaks lines where samples are missing, reduces them to one value, colours a value by threshold.
 */
import type { Calc, Threshold } from "./panels.ts";

/** One series of a panel: its legend name, labels, and points (Unix seconds, value or null). */
export interface Series {
  name: string;
  labels: Record<string, string>;
  /** The legend format that named it, which also says how a bar chart groups it. */
  legendFormat: string;
  points: [number, number | null][];
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

/**
 * A series' name as Grafana's legendFormat makes it: each {{label}} replaced by the series'
 * value of it (nothing when it has none). Without a format, its labels as PromQL writes them
 * (metric{a="b"}); without labels either, the query itself.
 */
export function legendOf(format: string, labels: Record<string, string>, expr: string): string {
  if (format !== "") return format.replace(PLACEHOLDER, (_, name) => labels[name] ?? "");
  const { __name__, ...rest } = labels;
  const inner = Object.entries(rest).map(([k, v]) => `${k}="${v}"`);
  if (__name__ === undefined && inner.length === 0) return expr;
  return `${__name__ ?? ""}{${inner.join(", ")}}`;
}

/**
 * A bar's group and its name within it: a legend format that ends in a label ("{{variant}}
 * {{route}} {{label}}") groups by what comes before it, so the bars of one label sit together,
 * one a group; any other format is a group of one.
 */
export function barOf(series: Series): { group: string; bar: string } {
  const placeholders = [...series.legendFormat.matchAll(PLACEHOLDER)];
  const last = placeholders.at(-1);
  if (last === undefined || last.index + last[0].length !== series.legendFormat.trimEnd().length)
    return { group: series.name, bar: series.name };
  const before = series.legendFormat.slice(0, last.index).trim();
  if (before === "") return { group: series.name, bar: series.name };
  return {
    group: legendOf(before, series.labels, "").trim(),
    bar: series.labels[last[1] ?? ""] ?? "",
  };
}

/**
 * Points with a null where a sample is missing, as Grafana inserts them: a gap of more than one
 * step between two samples breaks the line rather than draw a slope across it.
 */
export function breakGaps(
  points: [number, number | null][],
  step: number,
): [number, number | null][] {
  const broken: [number, number | null][] = [];
  for (const [i, point] of points.entries()) {
    const previous = points[i - 1];
    if (previous !== undefined && point[0] - previous[0] > step * 1.5)
      broken.push([previous[0] + step, null]);
    broken.push(point);
  }
  return broken;
}

/** A series reduced to one value, as a stat's calc does; undefined when it has none. */
export function reduce(values: (number | null)[], calc: Calc): number | undefined {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  // Grafana's "last" is the last point whatever it is; every other calc skips nulls.
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

/** Grafana's names of the calcs, as its legends and stats write them. */
export const CALC_NAMES: Record<Calc, string> = {
  lastNotNull: "Last *",
  last: "Last",
  mean: "Mean",
  max: "Max",
  min: "Min",
  sum: "Total",
};

/** The colour of the highest step at or below the value (Grafana's absolute thresholds). */
export function thresholdColor(steps: Threshold[], value: number): string | undefined {
  let color: string | undefined;
  for (const step of steps) if (step.value === null || value >= step.value) color = step.color;
  return color;
}
