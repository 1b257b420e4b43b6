/**
 * Grafana is not packaged for this machine, so the dashboard is proven here: after traffic of
 * every kind, each panel's query returns data from the live Prometheus.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  basicAuth,
  call,
  consumers,
  freshClient,
  freshConsumer,
  predict,
  prometheusQuery,
  within,
} from "./client.ts";

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
    const client = freshClient();
    const answered = await predict("I love this!");
    await predict("I love this!", { headers: { "X-Experiment-Group": "debug" } });
    await call("/feedback", {
      method: "POST",
      from: freshClient(),
      headers: { "Content-Type": "application/json", Authorization: basicAuth() },
      body: JSON.stringify({ token: answered.headers["x-prediction-token"], label: "love" }),
    });
    await predict("hi", { auth: basicAuth(undefined, "wrong") });
    // A consumer with a daily quota of its own (the end-to-end stack's default has none).
    const { key } = await consumers(["add", freshConsumer("dashboard"), "--daily", "100"]);
    const served = await within(5000, async () => {
      const reply = await predict("quota", { auth: `Bearer ${key}` });
      return reply.status === 200;
    });
    expect(served).toBeDefined();
    await Promise.all(Array.from({ length: 12 }, () => predict("hello", { from: client })));
    // Two scrapes (5 s apart) are needed before rate() has something to say.
    await sleep(11_000);
    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      const result = await prometheusQuery(expr);
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
    expect(queries.length).toBeGreaterThanOrEqual(10);
  });
});
