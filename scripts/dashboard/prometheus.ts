/**
 * A panel's targets from Prometheus's HTTP API, as Grafana asks for them: a range query for a time
 * series and for a stat (whose calcs reduce the range: a mean or a max needs the range's points),
 * an instant query at the range's end for a bar chart.
 */
import { parse } from "yaml";
import type { Panel } from "./panels.ts";
import { legendOf, type Series } from "./series.ts";
import type { TimeRange } from "./time-range.ts";

export interface QueryRange extends TimeRange {
  /** Seconds between points. */
  step: number;
  /** Prometheus's scrape interval, which $__rate_interval is made of. */
  scrapeInterval: number;
}

/** Prometheus's default, as Grafana assumes it when it is not told. */
const DEFAULT_SCRAPE_SECONDS = 15;

/**
 * About a point every 3 pixels of the panel's width, never finer than a scrape (finer points
 * repeat the same sample), in whole seconds.
 */
export const stepFor = (range: TimeRange, widthPx: number, scrapeInterval: number) =>
  Math.max(scrapeInterval, Math.round((range.to - range.from) / Math.max(1, widthPx / 3)));

/**
 * A query with Grafana's interval variables replaced as Grafana replaces them ($__rate_interval:
 * the larger of a step plus a scrape and four scrapes, so rate() always has two samples). A
 * dashboard variable of its own ($job) fails: this dashboard has none to give it.
 */
export function interpolate(expr: string, range: QueryRange): string {
  const seconds = (n: number) => `${Math.round(n)}s`;
  const values: Record<string, string> = {
    __interval: seconds(range.step),
    __interval_ms: String(range.step * 1000),
    __rate_interval: seconds(Math.max(range.step + range.scrapeInterval, 4 * range.scrapeInterval)),
    __range: seconds(range.to - range.from),
    __range_s: String(Math.round(range.to - range.from)),
    __range_ms: String(Math.round((range.to - range.from) * 1000)),
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (variable, ...names) => {
    const name = names.slice(0, 3).find((n) => n !== undefined) as string;
    if (values[name] === undefined)
      throw new Error(`${variable}: a variable not known to make dashboard`);
    return values[name];
  });
}

async function api(base: string, path: string, params: Record<string, string>): Promise<unknown> {
  const url = `${base}/api/v1/${path}?${new URLSearchParams(params)}`;
  const reply = await fetch(url);
  const body = (await reply.json()) as { status: string; data?: unknown; error?: string };
  if (body.status !== "success") throw new Error(`${url}: ${body.error ?? reply.status}`);
  return body.data;
}

/** The scrape interval Prometheus runs with, from its own configuration. */
export async function scrapeInterval(base: string): Promise<number> {
  const { yaml } = (await api(base, "status/config", {})) as { yaml: string };
  const interval: string | undefined = parse(yaml)?.global?.scrape_interval;
  const match = interval?.match(/^(\d+)(s|m)$/);
  if (!match) return DEFAULT_SCRAPE_SECONDS;
  return Number(match[1]) * (match[2] === "m" ? 60 : 1);
}

type Labels = Record<string, string>;

export async function panelSeries(
  base: string,
  panel: Panel,
  range: QueryRange,
): Promise<Series[]> {
  const all: Series[] = [];
  for (const target of panel.targets) {
    let query: string;
    try {
      query = interpolate(target.expr, range);
    } catch (error) {
      throw new Error(`panel "${panel.title}" targets.expr: ${(error as Error).message}`);
    }
    const named = (labels: Labels, points: [number, number | null][]): Series => ({
      name: legendOf(target.legendFormat, labels, target.expr),
      labels,
      legendFormat: target.legendFormat,
      points,
    });
    if (panel.type === "barchart") {
      const data = (await api(base, "query", { query, time: String(range.to) })) as {
        result: { metric: Labels; value: [number, string] }[];
      };
      for (const { metric, value } of data.result)
        all.push(named(metric, [[value[0], Number(value[1])]]));
    } else {
      // Grafana aligns a range to its step, so that each point is a multiple of it.
      const data = (await api(base, "query_range", {
        query,
        start: String(Math.floor(range.from / range.step) * range.step),
        end: String(range.to),
        step: String(range.step),
      })) as { result: { metric: Labels; values: [number, string][] }[] };
      for (const { metric, values } of data.result)
        all.push(
          named(
            metric,
            values.map(([t, v]) => [t, Number(v)]),
          ),
        );
    }
  }
  return all;
}
