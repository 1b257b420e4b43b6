import { describe, expect, it } from "vitest";
import { vegaLitePng } from "../chart-png.ts";
import { GRAFANA_COLORS } from "./colors.ts";
import { panelOf } from "./test-panel.ts";
import type { QueryRange } from "./prometheus.ts";
import type { Series } from "./series.ts";
import { bars, hasData, noDataSpec, panelSpec, statTiles } from "./specs.ts";

const seriesOf = (name: string, values: (number | null)[], labels = {}): Series => ({
  name,
  labels,
  legendFormat: "",
  points: values.map((v, i) => [i * 10, v]),
});
const range: QueryRange = { from: 0, to: 100, step: 10, scrapeInterval: 5 };

describe("a stat's tiles", () => {
  const thresholds = {
    mode: "absolute",
    steps: [
      { color: "red", value: null },
      { color: "orange", value: 0 },
      { color: "green", value: 0.25 },
    ],
  };

  it("are one a series, its value reduced, in the unit, coloured by the step it falls in", () => {
    const panel = panelOf("stat", { unit: "percentunit", thresholds });
    const tiles = statTiles(panel, [
      seriesOf("availability", [0.9, 0.5]),
      seriesOf("latency", [0.1]),
      seriesOf("overspent", [-0.5]),
    ]);
    expect(tiles.map((t) => [t.name, t.text, t.background])).toEqual([
      ["availability", "50%", GRAFANA_COLORS.green],
      ["latency", "10%", GRAFANA_COLORS.orange],
      ["overspent", "-50%", GRAFANA_COLORS.red],
    ]);
  });

  it("are one a series and calc when there are several calcs, each named by its calc", () => {
    const panel = panelOf("stat", {}, { reduceOptions: { calcs: ["max", "mean"] } });
    expect(statTiles(panel, [seriesOf("up", [1, 3])]).map((t) => [t.name, t.text])).toEqual([
      ["up (Max)", "3"],
      ["up (Mean)", "2"],
    ]);
  });

  it("say No value, in grey, for a series with no value", () => {
    const [tile] = statTiles(panelOf("stat"), [seriesOf("gone", [null])]);
    expect(tile).toMatchObject({ text: "No value", background: "#8e8e8e" });
  });

  it("write dark text on a light colour and white on a dark one", () => {
    const light = { mode: "absolute", steps: [{ color: "green", value: null }] };
    const dark = { mode: "absolute", steps: [{ color: "dark-red", value: null }] };
    const one = [seriesOf("x", [1])];
    expect(statTiles(panelOf("stat", { thresholds: light }), one)[0]?.foreground).toBe("#1f1f1f");
    expect(statTiles(panelOf("stat", { thresholds: dark }), one)[0]?.foreground).toBe("#ffffff");
  });
});

describe("a bar chart's bars", () => {
  it("are grouped by the legend format before its last label, and skip values that are not numbers", () => {
    const format = "{{variant}} {{label}}";
    const bar = (variant: string, label: string, value: number): Series => ({
      name: `${variant} ${label}`,
      labels: { variant, label },
      legendFormat: format,
      points: [[0, value]],
    });
    expect(
      bars([bar("v1", "joy", 0.5), bar("v2", "joy", 0.25), bar("v2", "fear", Number.NaN)]),
    ).toEqual([
      { group: "v1", bar: "joy", value: 0.5 },
      { group: "v2", bar: "joy", value: 0.25 },
    ]);
  });
});

describe("a panel with no data", () => {
  it("is one whose queries returned no series, not one whose series are NaN (0/0), as Grafana's", () => {
    expect(hasData([])).toBe(false);
    expect(hasData([seriesOf("a", [null, Number.NaN])])).toBe(true);
  });

  it("is drawn saying No data, whatever its type", () => {
    for (const type of ["timeseries", "stat", "barchart"]) {
      const panel = panelOf(type);
      expect(panelSpec(panel, [], range)).toEqual(noDataSpec(panel));
    }
  });
});

describe("every panel type's chart", () => {
  it("renders to a PNG about as wide as the panel (600 px), from series of each type", async () => {
    const series = [seriesOf("a", [1, 2, null, 4]), seriesOf("b", [0.5, 0.25, 0.1, 0.2])];
    const nan = [seriesOf("0/0", [Number.NaN, Number.NaN])];
    for (const panel of [panelOf("timeseries"), panelOf("stat"), panelOf("barchart")])
      expect((await vegaLitePng(panelSpec(panel, nan, range))).readUInt32BE(16)).toBeGreaterThan(
        500,
      );
    for (const panel of [
      panelOf("timeseries", { unit: "s", min: 0 }, { legend: { calcs: ["max"] } }),
      panelOf("stat", { unit: "bytes" }),
      panelOf("barchart", { unit: "percentunit" }),
      panelOf("timeseries", {}, { legend: { placement: "right" } }),
    ]) {
      const png = await vegaLitePng(panelSpec(panel, series, range));
      // PNG's header, then its width (big-endian, at byte 16).
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(570);
      expect(png.readUInt32BE(16)).toBeLessThanOrEqual(760);
    }
  });
});
