/** The latency percentiles of a bench run as a PNG (a vega-lite chart, scripts/chart-png.ts). */
import type { TopLevelSpec } from "vega-lite";
import { vegaLitePng } from "../scripts/chart-png.ts";

export interface LatencyPoint {
  /** The load point, e.g. "v1, 16 connections". */
  name: string;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export async function latencyChartPng(points: LatencyPoint[], title: string): Promise<Buffer> {
  const spec: TopLevelSpec = {
    title,
    width: 560,
    background: "white",
    config: { font: "DejaVu Sans" },
    data: {
      values: points.flatMap((p) => [
        { point: p.name, percentile: "p50", ms: p.p50Ms },
        { point: p.name, percentile: "p90", ms: p.p90Ms },
        { point: p.name, percentile: "p99", ms: p.p99Ms },
      ]),
    },
    // Points, not bars: the figures span 0.5 to 200 ms, readable only on a log scale, where a bar
    // has no baseline.
    mark: { type: "point", filled: true, size: 90 },
    encoding: {
      y: { field: "point", type: "nominal", sort: null, title: null, axis: { labelLimit: 320 } },
      x: {
        field: "ms",
        type: "quantitative",
        scale: { type: "log" },
        title: "latency, ms (log scale)",
      },
      color: { field: "percentile", type: "nominal", sort: ["p50", "p90", "p99"] },
    },
  };
  return vegaLitePng(spec);
}
