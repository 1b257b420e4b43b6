/**
 * A panel and its series as a vega-lite chart, drawn as Grafana draws its type: lines over time
 * (a time series), a tile a value coloured by its threshold (a stat), horizontal bars (a bar
 * chart). Sized from the panel's gridPos (Grafana's 24 columns, 30 px rows).
 */
import type { TopLevelSpec } from "vega-lite";
import { type Panel, reduce, thresholdColor } from "./panels.ts";
import type { Range, Series } from "./prometheus.ts";
import { formatIn, formatValue, scaleFor } from "./units.ts";

const COLUMN_PX = 40;
const ROW_PX = 30;
/** Longer legend names are cut: a legend must not take the chart's room. */
const LEGEND_CHARS = 48;
/** Grafana's default colour of a value with no threshold. */
const NO_THRESHOLD = "#3274d9";
const COLORS: Record<string, string> = {
  green: "#37872d",
  red: "#c4162a",
  orange: "#fa6400",
  yellow: "#e0b400",
  blue: "#1f60c4",
};

export const sizeOf = (panel: Panel) => ({
  width: panel.gridPos.w * COLUMN_PX,
  height: panel.gridPos.h * ROW_PX,
});

const cut = (name: string) =>
  name.length > LEGEND_CHARS ? `${name.slice(0, LEGEND_CHARS - 1)}…` : name;

const base = (panel: Panel) => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json" as const,
  // No limit: vega measures text by an estimate here (no canvas), which cut titles that fit.
  title: { text: panel.title, anchor: "start" as const, fontSize: 14, limit: 0 },
  background: "white",
  config: { font: "DejaVu Sans", view: { stroke: null } },
});

function noData(panel: Panel): TopLevelSpec {
  const { width, height } = sizeOf(panel);
  return {
    ...base(panel),
    width,
    height: height - 60,
    data: { values: [{ text: "No data" }] },
    mark: { type: "text", fontSize: 20, color: "#888" },
    encoding: { text: { field: "text" } },
  };
}

export function panelSpec(panel: Panel, series: Series[], range: Range): TopLevelSpec {
  if (series.length === 0) return noData(panel);
  switch (panel.type) {
    case "timeseries":
      return timeseries(panel, series, range);
    case "stat":
      return stat(panel, series);
    case "barchart":
      return barchart(panel, series);
  }
}

function timeseries(panel: Panel, series: Series[], range: Range): TopLevelSpec {
  const { width, height } = sizeOf(panel);
  const values = series.flatMap((s) =>
    s.points
      .filter(([, v]) => v !== null && Number.isFinite(v))
      .map(([t, v]) => ({ time: t * 1000, value: v, series: cut(s.name) })),
  );
  if (values.length === 0) return noData(panel);
  const largest = Math.max(...values.map((v) => Math.abs(v.value!)), panel.max ?? 0);
  const scale = scaleFor(panel.unit, largest);
  const legendRows = Math.ceil(series.length / 2);
  return {
    ...base(panel),
    width,
    // The legend below, two columns: the chart keeps at least half the panel.
    height: Math.max(height / 2, height - 60 - legendRows * 16),
    data: { values: values.map((v) => ({ ...v, scaled: v.value! / scale.divisor })) },
    mark: { type: "line", interpolate: "linear", strokeWidth: 1.5 },
    encoding: {
      x: {
        field: "time",
        type: "temporal",
        title: null,
        axis: { format: "%H:%M", labelOverlap: true, grid: false },
        // The whole range, as Grafana's x axis: a series that began late starts late.
        scale: { domain: [range.from * 1000, range.to * 1000] },
      },
      y: {
        field: "scaled",
        type: "quantitative",
        title: scale.suffix.trim() || null,
        axis: { format: `.${scale.digits}f`, tickCount: 5 },
        scale: {
          ...(panel.min !== undefined ? { domainMin: panel.min / scale.divisor } : {}),
          ...(panel.max !== undefined ? { domainMax: panel.max / scale.divisor } : {}),
          zero: panel.min !== undefined ? undefined : false,
        },
      },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        legend: { orient: "bottom", columns: 2, labelLimit: width / 2 - 40, symbolType: "stroke" },
      },
    },
  };
}

function stat(panel: Panel, series: Series[]): TopLevelSpec {
  const { width, height } = sizeOf(panel);
  const tiles = series.map((s) => {
    const value = reduce(
      s.points.map(([, v]) => v),
      panel.calc,
    );
    const color =
      value === undefined ? "#888" : (thresholdColor(panel.thresholds, value) ?? NO_THRESHOLD);
    return {
      name: cut(s.name),
      text: value === undefined ? "No data" : formatValue(panel.unit, value),
      color: COLORS[color] ?? color,
    };
  });
  // As many columns as fit tiles of about 180 px, the rows that takes.
  const columns = Math.max(1, Math.min(tiles.length, Math.floor(width / 180)));
  const rows = Math.ceil(tiles.length / columns);
  const tileHeight = Math.max(44, Math.min(110, (height - 50) / rows));
  const placed = tiles.map((tile, i) => ({
    ...tile,
    col: i % columns,
    row: Math.floor(i / columns),
  }));
  const fontSize = Math.max(14, Math.min(36, tileHeight / 2.6));
  const position = {
    x: { field: "col", type: "ordinal" as const, axis: null },
    y: { field: "row", type: "ordinal" as const, axis: null },
  };
  return {
    ...base(panel),
    width,
    height: rows * tileHeight,
    data: { values: placed },
    layer: [
      {
        mark: { type: "rect", cornerRadius: 3, stroke: "white", strokeWidth: 4 },
        encoding: { ...position, color: { field: "color", type: "nominal", scale: null } },
      },
      {
        mark: { type: "text", color: "white", fontSize, fontWeight: "bold", dy: -tileHeight / 10 },
        encoding: { ...position, text: { field: "text" } },
      },
      {
        mark: {
          type: "text",
          color: "white",
          fontSize: 11,
          dy: tileHeight / 2 - 12,
        },
        encoding: { ...position, text: { field: "name" } },
      },
    ],
  } as TopLevelSpec;
}

function barchart(panel: Panel, series: Series[]): TopLevelSpec {
  const { width } = sizeOf(panel);
  const values = series
    .map((s) => ({ name: cut(s.name), value: s.points[0]?.[1] ?? null }))
    .filter(
      (v): v is { name: string; value: number } => v.value !== null && Number.isFinite(v.value),
    );
  if (values.length === 0) return noData(panel);
  const scale = scaleFor(panel.unit, Math.max(...values.map((v) => Math.abs(v.value))));
  return {
    ...base(panel),
    width: width - 260,
    // A row a bar, however many: a bar chart of 39 labels stays readable.
    height: { step: 14 },
    data: {
      values: values.map((v) => ({
        ...v,
        scaled: v.value / scale.divisor,
        text: formatIn(scale, v.value),
      })),
    },
    encoding: {
      y: { field: "name", type: "nominal", sort: null, title: null, axis: { labelLimit: 250 } },
      x: {
        field: "scaled",
        type: "quantitative",
        title: scale.suffix.trim() || null,
        axis: { format: `.${scale.digits}f` },
      },
    },
    layer: [
      { mark: { type: "bar", color: NO_THRESHOLD } },
      {
        mark: { type: "text", align: "left", dx: 3, fontSize: 10 },
        encoding: { text: { field: "text" } },
      },
    ],
  } as TopLevelSpec;
}
