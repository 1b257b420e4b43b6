/**
 * A panel and its series as a vega-lite chart, drawn as Grafana draws its type: lines over time
 * (a time series), a tile a value coloured by its threshold (a stat), horizontal bars (a bar
 * chart). Sized from the panel's gridPos (Grafana's 24 columns, 30 px rows), wider than Grafana
 * on a laptop so that a PNG alone is readable; a legend adds rows below rather than take the
 * chart's.
 */
import type { TopLevelSpec } from "vega-lite";
import { cssColor, textColorOn } from "./colors.ts";
import type { Panel } from "./panels.ts";
import type { QueryRange } from "./prometheus.ts";
import { barOf, breakGaps, CALC_NAMES, reduce, type Series, thresholdColor } from "./series.ts";
import { formatIn, formatValue, scaleFor, type Scale } from "./units.ts";
import {
  legendFor,
  legendNames,
  legendValues,
  LEGEND_MAX_CHARS,
  rightLegendWidth,
} from "./legend.ts";
import {
  BOLD_CHAR_EM,
  CHAR_EM,
  cut,
  LABEL_FONT,
  shorten,
  TITLE_FONT,
  VEGA_CHAR_EM,
  wrap,
} from "./text.ts";
const COLUMN_PX = 50;
const ROW_PX = 30;
/** Room a panel's title and x axis take of its height. */
const CHROME_PX = 60;
const NO_VALUE = "#8e8e8e";

export const sizeOf = (panel: Panel) => ({
  width: panel.gridPos.w * COLUMN_PX,
  height: panel.gridPos.h * ROW_PX,
});

const base = (panel: Panel) => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json" as const,
  title: {
    text: wrap(panel.title, sizeOf(panel).width, TITLE_FONT),
    anchor: "start" as const,
    fontSize: TITLE_FONT,
    fontWeight: "bold" as const,
    // vega measures text by an estimate here (no canvas): a limit would cut titles that fit.
    limit: 0,
    offset: 10,
  },
  background: "white",
  padding: 12,
  config: {
    font: "DejaVu Sans",
    view: { stroke: null },
    axis: {
      labelFontSize: LABEL_FONT,
      titleFontSize: LABEL_FONT,
      titleFontWeight: "normal" as const,
    },
    legend: { labelFontSize: LABEL_FONT, titleFontSize: LABEL_FONT },
  },
});

/** The panel as Grafana shows a query that returned nothing. */
export function noDataSpec(panel: Panel): TopLevelSpec {
  const { width, height } = sizeOf(panel);
  return {
    ...base(panel),
    width,
    height: height - CHROME_PX,
    data: { values: [{ text: "No data" }] },
    mark: { type: "text", fontSize: 22, color: NO_VALUE },
    encoding: { text: { field: "text" } },
  };
}

export function panelSpec(panel: Panel, series: Series[], range: QueryRange): TopLevelSpec {
  if (!hasData(series)) return noDataSpec(panel);
  switch (panel.type) {
    case "timeseries":
      return timeseriesSpec(panel, series, range);
    case "stat":
      return statSpec(panel, series);
    case "barchart":
      return barchartSpec(panel, series);
  }
}

/**
 * Grafana's "No data": the queries returned no series. A series of NaN (a ratio of 0/0) is data
 * to Grafana, drawn as an empty chart with its legend, and so here.
 */
export const hasData = (series: Series[]) => series.length > 0;

/** A y (or x) axis's labels in the panel's unit: 12 ms, 50%, 1.5 GiB. */
const unitAxis = (scale: Scale) => ({
  title: scale.name === "" ? null : scale.name,
  labelExpr: `format(datum.value, ',.4~r') + '${scale.suffix.replace(/'/g, "\\'")}'`,
  tickCount: 5,
});

function timeseriesSpec(panel: Panel, series: Series[], range: QueryRange): TopLevelSpec {
  const { width, height } = sizeOf(panel);
  const finite = series.flatMap((s) =>
    s.points.flatMap(([, v]) => (v !== null && Number.isFinite(v) ? [Math.abs(v)] : [])),
  );
  const scale = scaleFor(panel.unit, Math.max(0, ...finite, Math.abs(panel.max ?? 0)));
  // All zeros (or no number at all) would make an axis of one tick; Grafana's then goes from 0 to 1.
  const flatZero = panel.max === undefined && finite.every((v) => v === 0);
  const names = legendNames(
    panel,
    series.map((s) => s.name),
    width,
    series.map((s) => legendValues(panel, s)),
  );
  // A legend on the right takes its room from the chart, so the picture stays the panel's width.
  const chartWidth =
    panel.legend.show && panel.legend.placement === "right"
      ? Math.max(width / 2, width - rightLegendWidth(names))
      : width;
  const values = series.flatMap((s, i) => {
    const points = breakGaps(s.points, range.step).map(([t, v]) => ({
      time: t * 1000,
      value: v !== null && Number.isFinite(v) ? v / scale.divisor : null,
      series: names[i],
    }));
    // A sample with no neighbour draws no line: it gets a dot, as Grafana's "auto" points do.
    return points.map((p, j) => ({
      ...p,
      alone: p.value !== null && points[j - 1]?.value == null && points[j + 1]?.value == null,
    }));
  });
  const day = range.to - range.from > 86_400;
  const color = {
    field: "series",
    type: "nominal" as const,
    sort: null,
    scale: { scheme: names.length > 10 ? "tableau20" : "category10" },
    // Lines' legend shows strokes, not the dots of a lone sample.
    legend: legendFor(panel, names, width) && {
      ...legendFor(panel, names, width),
      symbolType: "stroke",
      symbolStrokeWidth: 3,
    },
  };
  return {
    ...base(panel),
    width: chartWidth,
    height: height - CHROME_PX,
    data: { values },
    encoding: {
      x: {
        field: "time",
        type: "temporal",
        title: null,
        // The machine's local time, as Grafana's "browser" timezone.
        axis: { format: day ? "%b %d %H:%M" : "%H:%M", labelOverlap: true, grid: false },
        // The whole range, as Grafana's x axis: a series that began late starts late.
        scale: { domain: [range.from * 1000, range.to * 1000] },
      },
      y: {
        field: "value",
        type: "quantitative",
        axis: unitAxis(scale),
        scale: {
          ...(panel.min !== undefined ? { domainMin: panel.min / scale.divisor } : {}),
          ...(panel.max !== undefined ? { domainMax: panel.max / scale.divisor } : {}),
          ...(flatZero ? { domain: [0, 1 / scale.divisor] } : {}),
          zero: false,
          nice: panel.max === undefined,
        },
      },
      color,
    },
    layer: [
      { mark: { type: "line", strokeWidth: 1.5, clip: true } },
      {
        transform: [{ filter: "datum.alone" }],
        mark: { type: "point", filled: true, size: 20, clip: true },
      },
    ],
  } as TopLevelSpec;
}

/** A stat's tiles: a value each calc of each series, coloured by the step it falls in. */
export function statTiles(panel: Panel, series: Series[]) {
  return series.flatMap((s) =>
    panel.calcs.map((calc) => {
      const value = reduce(
        s.points.map(([, v]) => v),
        calc,
      );
      const step = value === undefined ? undefined : thresholdColor(panel.thresholds, value);
      const background = step === undefined ? NO_VALUE : (cssColor(step) ?? NO_VALUE);
      return {
        name: panel.calcs.length > 1 ? `${s.name} (${CALC_NAMES[calc]})` : s.name,
        text: value === undefined ? "No value" : formatValue(panel.unit, value),
        background,
        foreground: textColorOn(background),
      };
    }),
  );
}

function statSpec(panel: Panel, series: Series[]): TopLevelSpec {
  const { width, height } = sizeOf(panel);
  const tiles = statTiles(panel, series);
  // As many columns as fit tiles of about 200 px, the rows that takes.
  const columns = Math.max(1, Math.min(tiles.length, Math.floor(width / 200)));
  const rows = Math.ceil(tiles.length / columns);
  const tileWidth = width / columns;
  const tileHeight = Math.max(56, Math.min(160, (height - CHROME_PX) / rows));
  const longestValue = Math.max(1, ...tiles.map((t) => t.text.length));
  const fontSize = Math.floor(
    Math.max(14, Math.min(tileHeight * 0.45, (tileWidth - 24) / (longestValue * BOLD_CHAR_EM))),
  );
  const nameChars = Math.floor((tileWidth - 12) / (LABEL_FONT * CHAR_EM));
  const names = shorten(
    tiles.map((t) => t.name),
    nameChars,
  );
  const placed = tiles.map((tile, i) => ({
    ...tile,
    name: names[i],
    column: i % columns,
    row: Math.floor(i / columns),
  }));
  const position = {
    x: {
      field: "column",
      type: "ordinal" as const,
      axis: null,
      scale: { paddingInner: 0.04, paddingOuter: 0 },
    },
    y: {
      field: "row",
      type: "ordinal" as const,
      axis: null,
      scale: { paddingInner: 0.08, paddingOuter: 0 },
    },
  };
  const text = (dy: number, size: number, weight: "bold" | "normal") => ({
    mark: { type: "text", fontSize: size, fontWeight: weight, dy },
    encoding: {
      ...position,
      color: { field: "foreground", type: "nominal", scale: null },
    },
  });
  return {
    ...base(panel),
    width,
    height: rows * tileHeight,
    data: { values: placed },
    layer: [
      {
        mark: { type: "rect", cornerRadius: 4 },
        encoding: { ...position, color: { field: "background", type: "nominal", scale: null } },
      },
      {
        ...text(-LABEL_FONT * 0.7, fontSize, "bold"),
        encoding: { ...text(0, 0, "bold").encoding, text: { field: "text" } },
      },
      {
        ...text(fontSize / 2 + LABEL_FONT * 0.4, LABEL_FONT, "normal"),
        encoding: { ...text(0, 0, "normal").encoding, text: { field: "name" } },
      },
    ],
  } as TopLevelSpec;
}

/** A bar chart's bars: named and grouped by the legend format (see barOf), values finite. */
export function bars(series: Series[]) {
  return series.flatMap((s) => {
    const value = s.points[0]?.[1];
    if (value === null || value === undefined || !Number.isFinite(value)) return [];
    return [{ ...barOf(s), value }];
  });
}

function barchartSpec(panel: Panel, series: Series[]): TopLevelSpec {
  const { width } = sizeOf(panel);
  const all = bars(series);
  const scale = scaleFor(
    panel.unit,
    Math.max(0, ...all.map((b) => Math.abs(b.value)), panel.max ?? 0),
  );
  const grouped = all.some((b) => b.group !== b.bar);
  const values = all.map((b) => ({
    ...b,
    bar: cut(b.bar, LEGEND_MAX_CHARS),
    scaled: b.value / scale.divisor,
    text: formatIn(scale, b.value),
  }));
  const labelWidth =
    Math.max(0, ...values.map((v) => v.bar.length * LABEL_FONT * VEGA_CHAR_EM)) + 12;
  const fullGroups = [...new Set(all.map((b) => b.group))];
  const groups = legendNames(panel, fullGroups, width);
  for (const v of values) v.group = groups[fullGroups.indexOf(v.group)] ?? v.group;
  // Grouped: a row a bar name (a label), a bar in it a group (a variant), coloured by group, so
  // that each group's value of one name sits beside the others'.
  const byGroup = grouped
    ? {
        yOffset: { field: "group", type: "nominal", sort: groups },
        color: {
          field: "group",
          type: "nominal",
          sort: groups,
          title: null,
          legend: legendFor(panel, groups, width),
        },
      }
    : { color: { value: cssColor("semi-dark-blue") } };
  const encoding = {
    y: { field: "bar", type: "nominal", sort: null, title: null, axis: { labelLimit: 0 } },
    x: {
      field: "scaled",
      type: "quantitative",
      axis: unitAxis(scale),
      scale: {
        ...(panel.min !== undefined ? { domainMin: panel.min / scale.divisor } : {}),
        ...(panel.max !== undefined ? { domainMax: panel.max / scale.divisor } : {}),
      },
    },
    ...byGroup,
  };
  return {
    ...base(panel),
    // Room at the right for the longest bar's value.
    width: Math.max(200, width - labelWidth - 60),
    // With a yOffset, the step is each bar's, not each row's.
    height: { step: grouped ? 12 : 18 },
    data: { values },
    encoding,
    layer: [
      { mark: { type: "bar" } },
      {
        mark: { type: "text", align: "left", dx: 3, fontSize: 10, color: "#333" },
        encoding: { text: { field: "text" }, color: { value: "#333" } },
      },
    ],
  } as TopLevelSpec;
}
