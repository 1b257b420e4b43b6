/**
 * A panel's targets from Prometheus's HTTP API: a range query for a time series or a stat, an
 * instant one (at the range's end) for a bar chart.
 */
import { legendOf, type Panel } from "./panels.ts";

/** One series of a panel, by its legend name: its points (seconds, value; null where absent). */
export interface Series {
  name: string;
  points: [number, number | null][];
}

export interface Range {
  /** Unix seconds. */
  from: number;
  to: number;
  step: number;
}

/** About 240 points across the range (a panel's width), never finer than a scrape (5 s). */
export const stepFor = (from: number, to: number) => Math.max(5, Math.round((to - from) / 240));

async function api(base: string, path: string, params: Record<string, string>): Promise<any> {
  const url = `${base}/api/v1/${path}?${new URLSearchParams(params)}`;
  const reply = await fetch(url);
  const body: any = await reply.json();
  if (body.status !== "success") throw new Error(`${url}: ${body.error ?? reply.status}`);
  return body.data;
}

export async function panelSeries(base: string, panel: Panel, range: Range): Promise<Series[]> {
  const all: Series[] = [];
  for (const target of panel.targets) {
    if (/\$__/.test(target.expr))
      throw new Error(
        `panel "${panel.title}": Grafana's $__ variables not known to make dashboard`,
      );
    // A stat reduces the range's points (its calc); a bar chart shows the values at its end.
    if (panel.type !== "barchart") {
      const data = await api(base, "query_range", {
        query: target.expr,
        start: String(range.from),
        end: String(range.to),
        step: String(range.step),
      });
      for (const result of data.result)
        all.push({
          name: legendOf(target.legendFormat, result.metric),
          points: result.values.map(([t, v]: [number, string]) => [t, Number(v)]),
        });
    } else {
      const data = await api(base, "query", { query: target.expr, time: String(range.to) });
      for (const result of data.result)
        all.push({
          name: legendOf(target.legendFormat, result.metric),
          points: [[result.value[0], Number(result.value[1])]],
        });
    }
  }
  return all;
}
