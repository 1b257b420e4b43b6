/**
 * The dashboard's page: its panels' PNGs placed on the dashboard's grid (gridPos: 24 columns,
 * rows that grow to their PNGs), each titled, and which ones had no data.
 */
import type { Dashboard } from "./panels.ts";
import type { Drawn } from "./render.ts";
import { localTime, type TimeRange } from "./time-range.ts";

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
export const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ENTITIES[c] ?? c);

export function pageOf(
  dashboard: Dashboard,
  drawn: Drawn[],
  range: TimeRange,
  prometheus: string,
): string {
  const cells = drawn.map(({ panel, file, empty }) => {
    const { x, y, w, h } = panel.gridPos;
    const title = escapeHtml(panel.title);
    return `  <figure class="panel${empty ? " empty" : ""}" style="grid-column: ${x + 1} / span ${w}; grid-row: ${y + 1} / span ${h}">
    <a href="${file}"><img src="${file}" alt="${title}" title="${title}"></a>
    <figcaption>${empty ? '<strong class="no-data">No data</strong> ' : ""}<a href="${file}">${escapeHtml(file)}</a></figcaption>
  </figure>`;
  });
  const empty = drawn.filter((d) => d.empty);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(dashboard.title)}</title>
<style>
  body { font-family: "DejaVu Sans", sans-serif; margin: 16px; background: #f4f5f5; color: #222; }
  .grid { display: grid; grid-template-columns: repeat(24, minmax(0, 1fr)); grid-auto-rows: minmax(12px, auto); gap: 8px; }
  .panel { margin: 0; background: white; border: 1px solid #ddd; border-radius: 3px; }
  .panel img { max-width: 100%; height: auto; display: block; }
  figcaption { font-size: 12px; color: #777; padding: 2px 8px 6px; }
  figcaption a { color: inherit; }
  .no-data { color: #c4162a; }
</style>
</head>
<body>
<h1>${escapeHtml(dashboard.title)}</h1>
<p>${localTime(range.from)} to ${localTime(range.to)}, from Prometheus at ${escapeHtml(prometheus)}.
Drawn by <code>make dashboard</code> from deployments/grafana/dashboards/fortress.json.
${empty.length > 0 ? `<strong class="no-data">${empty.length} of ${drawn.length} panels had no data.</strong>` : `All ${drawn.length} panels had data.`}</p>
<main class="grid">
${cells.join("\n")}
</main>
</body>
</html>
`;
}
