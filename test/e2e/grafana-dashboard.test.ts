/**
 * Grafana is not packaged for this machine, so the dashboard is proven here: after traffic of
 * every kind, each panel's query returns data from the live Prometheus. make dashboard's drawing
 * of them is dashboard.test.ts's.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { prometheusQuery } from "./client.ts";
import { sendTrafficOfEveryKind } from "./dashboard-traffic.ts";

const dashboard = JSON.parse(
  readFileSync(
    new URL("../../deployments/grafana/dashboards/fortress.json", import.meta.url),
    "utf8",
  ),
);
const queries: { panel: string; expr: string }[] = dashboard.panels.flatMap((panel: any) =>
  panel.targets.map((target: any) => ({ panel: panel.title, expr: target.expr })),
);

describe("the Grafana dashboard", () => {
  it("has data for every panel's query after traffic", async () => {
    await sendTrafficOfEveryKind();
    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      const result = await prometheusQuery(expr);
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
    expect(queries.length).toBeGreaterThanOrEqual(10);
  }, 60_000);
});
