/**
 * The dashboard drawn into a folder: a PNG a panel and a page of them (make dashboard's, and the
 * README's picture, one of those PNGs).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { vegaLitePng } from "../chart-png.ts";
import { pageOf } from "./page.ts";
import { type Dashboard, type Panel, panelSlug, readDashboard } from "./panels.ts";
import { panelSeries, type QueryRange, scrapeInterval, stepFor } from "./prometheus.ts";
import { hasData, panelSpec, sizeOf } from "./specs.ts";
import type { TimeRange } from "./time-range.ts";

export interface Drawn {
  panel: Panel;
  /** The PNG's file name, in the output folder. */
  file: string;
  /** Whether its queries returned nothing: the panel says "No data". */
  empty: boolean;
}

export interface Rendered {
  page: string;
  pngs: string[];
  drawn: Drawn[];
  /** Titles of the panels that had no data. */
  noData: string[];
}

async function renderPanel(
  panel: Panel,
  range: TimeRange,
  prometheus: string,
  scrape?: number,
): Promise<{ png: Buffer; empty: boolean }> {
  scrape ??= await scrapeInterval(prometheus);
  const query: QueryRange = {
    ...range,
    scrapeInterval: scrape,
    step: stepFor(range, sizeOf(panel).width, scrape),
  };
  const series = await panelSeries(prometheus, panel, query);
  return { png: await vegaLitePng(panelSpec(panel, series, query)), empty: !hasData(series) };
}

/** Every panel of the dashboard (the repository's, unless given), into `output`, emptied first. */
export async function renderDashboard(options: {
  root: string;
  output: string;
  range: TimeRange;
  prometheus: string;
  dashboard?: Dashboard;
}): Promise<Rendered> {
  const dashboard = options.dashboard ?? readDashboard(options.root);
  rmSync(options.output, { recursive: true, force: true });
  mkdirSync(options.output, { recursive: true });
  const scrape = await scrapeInterval(options.prometheus);
  const drawn: Drawn[] = [];
  for (const panel of dashboard.panels) {
    const { png, empty } = await renderPanel(panel, options.range, options.prometheus, scrape);
    const file = `panel-${panelSlug(panel)}.png`;
    writeFileSync(join(options.output, file), png);
    drawn.push({ panel, file, empty });
  }
  const page = join(options.output, "index.html");
  writeFileSync(page, pageOf(dashboard, drawn, options.range, options.prometheus));
  return {
    page,
    pngs: drawn.map((d) => join(options.output, d.file)),
    drawn,
    noData: drawn.filter((d) => d.empty).map((d) => d.panel.title),
  };
}
