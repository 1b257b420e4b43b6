/**
 * `make dashboard`: every panel of the Grafana dashboard (the file Grafana provisions), drawn from
 * the live Prometheus into .state/dashboard/: a PNG a panel and index.html laying them out as the
 * dashboard's grid does. Grafana is not a Debian package; this is how the panels are seen here.
 *
 *   tsx scripts/dashboard/dashboard.ts [--from now-1h] [--to now]   (or DASHBOARD_FROM, DASHBOARD_TO)
 *
 * PROMETHEUS_URL points it at another Prometheus. A panel with no data is drawn saying so, and
 * listed at the end; a panel it cannot draw as Grafana would fails the command.
 */
import { parseArgs } from "node:util";
import { loadSettings, ROOT } from "../stack/settings.ts";
import { DASHBOARD_OUTPUT } from "./output.ts";
import { readDashboard } from "./panels.ts";
import { renderDashboard } from "./render.ts";
import { localTime, parseRange } from "./time-range.ts";

try {
  const dashboard = readDashboard(ROOT);
  const { values } = parseArgs({ options: { from: { type: "string" }, to: { type: "string" } } });
  const range = parseRange(
    values.from ?? process.env.DASHBOARD_FROM ?? dashboard.time.from,
    values.to ?? process.env.DASHBOARD_TO ?? dashboard.time.to,
    Date.now() / 1000,
  );
  const prometheus =
    process.env.PROMETHEUS_URL ?? `http://127.0.0.1:${loadSettings().prometheusPort}`;
  const { page, drawn, noData } = await renderDashboard({
    root: ROOT,
    output: DASHBOARD_OUTPUT,
    range,
    prometheus,
    dashboard,
  });
  console.log(
    `${dashboard.title}, ${localTime(range.from)} to ${localTime(range.to)}, from ${prometheus}`,
  );
  for (const { file, empty } of drawn)
    console.log(`  ${DASHBOARD_OUTPUT}/${file}${empty ? "  (No data)" : ""}`);
  console.log(`page: ${page}`);
  if (noData.length > 0)
    console.log(
      `${noData.length} of ${drawn.length} panels had no data:\n  ${noData.join("\n  ")}`,
    );
} catch (error) {
  console.error(`make dashboard: ${(error as Error).message}`);
  process.exit(1);
}
