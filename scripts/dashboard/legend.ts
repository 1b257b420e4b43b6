/**
 * A chart's legend as Grafana's list legend: below the chart (or right of it), names cut to fit
 * and followed by the legend's calcs, in columns, so that many series do not take the chart's room.
 */
import type { Panel } from "./panels.ts";
import { CALC_NAMES, reduce, type Series } from "./series.ts";
import { LABEL_FONT, shorten, VEGA_CHAR_EM } from "./text.ts";
import { formatValue } from "./units.ts";

/** Legend rows beyond these are dropped (vega counts them in the last row). */
const LEGEND_MAX_ROWS = 8;
export const LEGEND_MAX_CHARS = 60;

/** How a legend lays out its names: columns that fit the longest, at most so many rows. */
export function legendLayout(names: string[], width: number) {
  const longest = Math.min(LEGEND_MAX_CHARS, Math.max(1, ...names.map((n) => n.length)));
  const columnWidth = longest * LABEL_FONT * VEGA_CHAR_EM + 36;
  const columns = Math.max(1, Math.min(4, Math.floor(width / columnWidth), names.length));
  const shown = Math.min(names.length, columns * LEGEND_MAX_ROWS);
  return {
    columns,
    /** Characters a name keeps: what fits its column as vega measures it. */
    chars: Math.floor((width / columns - 36) / (LABEL_FONT * VEGA_CHAR_EM)),
    // vega writes "…n entries" in the last row for those it drops.
    shown,
  };
}

/** Characters a legend name keeps on the right of a chart. */
const RIGHT_LEGEND_CHARS = 28;

/**
 * Names as the panel's legend can show them: each series' name cut to what fits, then its
 * values (the legend's calcs), which are never cut.
 */
export function legendNames(
  panel: Panel,
  names: string[],
  width: number,
  values: string[] = names.map(() => ""),
): string[] {
  if (!panel.legend.show) return names;
  const longestValues = Math.max(0, ...values.map((v) => v.length));
  const room =
    panel.legend.placement === "right"
      ? RIGHT_LEGEND_CHARS
      : legendLayout(
          names.map((n, i) => n + values[i]),
          width,
        ).chars - longestValues;
  return shorten(names, Math.max(12, room)).map((name, i) => name + values[i]);
}

/** What a legend on the right takes of a panel's width. */
export const rightLegendWidth = (names: string[]) =>
  Math.max(0, ...names.map((n) => n.length)) * LABEL_FONT * VEGA_CHAR_EM + 40;

export function legendFor(panel: Panel, names: string[], width: number) {
  if (!panel.legend.show) return null;
  if (panel.legend.placement === "right")
    return {
      orient: "right" as const,
      labelLimit: 0,
      symbolLimit: LEGEND_MAX_ROWS * 3,
      title: null,
    };
  const layout = legendLayout(names, width);
  return {
    orient: "bottom" as const,
    direction: "horizontal" as const,
    columns: layout.columns,
    // Names are cut to fit beforehand (legendNames); vega's own cut would go by its estimate.
    labelLimit: 0,
    symbolLimit: layout.shown,
    title: null,
    columnPadding: 16,
  };
}

/**
 * The values a series' legend entry ends with, as its legend's calcs ask (" · Max: 12 ms"); a dot
 * between them, as SVG collapses spaces.
 */
export function legendValues(panel: Panel, series: Series): string {
  const values = series.points.map(([, v]) => v);
  return panel.legend.calcs
    .map((calc) => {
      const value = reduce(values, calc);
      return ` · ${CALC_NAMES[calc]}: ${value === undefined ? "-" : formatValue(panel.unit, value)}`;
    })
    .join("");
}
