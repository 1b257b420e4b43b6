/**
 * `make dashboard`: every panel of the Grafana dashboard (the file Grafana provisions), drawn from
 * the live Prometheus into .state/dashboard/: a PNG a panel and index.html laying them out as the
 * dashboard's grid does. Grafana is not a Debian package; this is how the panels are seen here.
 *
 *   tsx scripts/dashboard/dashboard.ts [--from now-1h] [--to now]   (or DASHBOARD_FROM, DASHBOARD_TO)
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { vegaLitePng } from "../chart-png.ts";
import { loadSettings, ROOT } from "../stack/settings.ts";
import { DASHBOARD_OUTPUT } from "./output.ts";
import { pageOf } from "./page.ts";
import { readDashboard } from "./panels.ts";
import { panelSeries, stepFor } from "./prometheus.ts";
import { panelSpec } from "./specs.ts";
import { parseTime } from "./time-range.ts";

const dashboard = readDashboard(ROOT);
const { values } = parseArgs({ options: { from: { type: "string" }, to: { type: "string" } } });
const now = Date.now() / 1000;
const from = parseTime(values.from ?? process.env.DASHBOARD_FROM ?? dashboard.time.from, now);
const to = parseTime(values.to ?? process.env.DASHBOARD_TO ?? dashboard.time.to, now);
if (from >= to) throw new Error(`the range's start (${from}) is not before its end (${to})`);
const prometheus =
  process.env.PROMETHEUS_URL ?? `http://127.0.0.1:${loadSettings().prometheusPort}`;

rmSync(DASHBOARD_OUTPUT, { recursive: true, force: true });
mkdirSync(DASHBOARD_OUTPUT, { recursive: true });
const drawn = [];
for (const panel of dashboard.panels) {
  const range = { from, to, step: stepFor(from, to) };
  const series = await panelSeries(prometheus, panel, range);
  const file = `panel-${panel.id}.png`;
  writeFileSync(join(DASHBOARD_OUTPUT, file), await vegaLitePng(panelSpec(panel, series, range)));
  drawn.push({ panel, file, empty: series.length === 0 });
}
const page = join(DASHBOARD_OUTPUT, "index.html");
writeFileSync(page, pageOf(dashboard, drawn, { from, to, prometheus }));

console.log(
  `${dashboard.title}, ${new Date(from * 1000).toISOString()} to ${new Date(to * 1000).toISOString()}, from ${prometheus}:`,
);
for (const { panel, file, empty } of drawn)
  console.log(`  ${join(DASHBOARD_OUTPUT, file)}  ${panel.title}${empty ? "  (No data)" : ""}`);
console.log(`page: ${page}`);
const empty = drawn.filter((d) => d.empty);
if (empty.length > 0) console.log(`${empty.length} of ${drawn.length} panels had no data`);
