/** The dashboard's page: its panels' PNGs placed on the dashboard's grid (gridPos), titled. */
import type { Dashboard, Panel } from "./panels.ts";
import { sizeOf } from "./specs.ts";

const escape = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c as "&" | "<" | ">" | '"'],
  );

export function pageOf(
  dashboard: Dashboard,
  drawn: { panel: Panel; file: string; empty: boolean }[],
  range: { from: number; to: number; prometheus: string },
): string {
  const at = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000", "");
  const cells = drawn
    .map(({ panel, file, empty }) => {
      const { x, y, w, h } = panel.gridPos;
      return `  <figure class="panel${empty ? " empty" : ""}" style="grid-column: ${x + 1} / span ${w}; grid-row: ${y + 1} / span ${h}">
    <img src="${file}" alt="${escape(panel.title)}" title="${escape(panel.title)}" width="${sizeOf(panel).width}">
    ${empty ? "<figcaption>No data</figcaption>" : ""}
  </figure>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(dashboard.title)}</title>
<style>
  body { font-family: "DejaVu Sans", sans-serif; margin: 16px; background: #f4f5f5; }
  .grid { display: grid; grid-template-columns: repeat(24, minmax(0, 1fr)); grid-auto-rows: 30px; gap: 8px; }
  .panel { margin: 0; background: white; border: 1px solid #ddd; overflow: auto; }
  .panel img { max-width: 100%; height: auto; display: block; }
  .empty figcaption { color: #888; padding: 4px 8px; }
</style>
</head>
<body>
<h1>${escape(dashboard.title)}</h1>
<p>${at(range.from)} to ${at(range.to)} (UTC), from ${escape(range.prometheus)}; made by <code>make dashboard</code> from deployments/grafana/dashboards.</p>
<main class="grid">
${cells}
</main>
</body>
</html>
`;
}
