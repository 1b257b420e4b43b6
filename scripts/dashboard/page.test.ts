import { describe, expect, it } from "vitest";
import { pageOf } from "./page.ts";
import { parsePanel } from "./panels.ts";

const panel = (id: number, title: string, gridPos: object) =>
  parsePanel(
    { id, title, type: "timeseries", gridPos, targets: [{ expr: "up", legendFormat: "" }] },
    id,
  );
const dashboard = { title: "Fortress <Edge>", time: { from: "now-1h", to: "now" }, panels: [] };
const drawn = [
  {
    panel: panel(1, 'Latency "p99"', { x: 0, y: 0, w: 12, h: 8 }),
    file: "panel-1.png",
    empty: false,
  },
  { panel: panel(2, "Errors", { x: 12, y: 8, w: 6, h: 4 }), file: "panel-2.png", empty: true },
];
const html = pageOf(dashboard, drawn, { from: 0, to: 3600 }, "http://127.0.0.1:9090");

describe("the dashboard's page", () => {
  it("places each panel's image on the grid where its gridPos says, titled by its alt", () => {
    expect(html).toContain('style="grid-column: 1 / span 12; grid-row: 1 / span 8"');
    expect(html).toContain('style="grid-column: 13 / span 6; grid-row: 9 / span 4"');
    expect(html).toContain('<img src="panel-1.png" alt="Latency &quot;p99&quot;"');
  });

  it("says No data on a panel whose queries returned nothing, and only there", () => {
    expect(html.match(/>No data</g)).toHaveLength(1);
    expect(html).toMatch(/No data<\/strong> <a href="panel-2.png">/);
    expect(html).toContain("1 of 2 panels had no data");
  });

  it("writes the dashboard's title escaped, and the time range", () => {
    expect(html).toContain("<h1>Fortress &lt;Edge&gt;</h1>");
    expect(html).toMatch(/1970-01-01 \d\d:00 \(UTC.*\) to 1970-01-01 \d\d:00/);
  });
});
