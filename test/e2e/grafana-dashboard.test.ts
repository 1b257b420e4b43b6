/**
 * Grafana is not packaged for this machine, so the dashboard is proven here: after traffic of
 * every kind, each panel's query returns data from the live Prometheus, and make dashboard's page
 * of them shows each panel drawn, in a real browser.
 */
import { execFile as execFileCallback } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { DASHBOARD_OUTPUT } from "../../scripts/dashboard/output.ts";
import { ROOT } from "../../scripts/stack/settings.ts";
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

const execFile = promisify(execFileCallback);
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
  it("has data for every panel's query after traffic, and make dashboard draws every panel with data, as Chromium shows", async () => {
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

    // make dashboard draws every panel from the same Prometheus, and a browser shows them all.
    const made = await execFile(
      process.execPath,
      ["--import", "tsx", "scripts/dashboard/dashboard.ts", "--from", "now-15m"],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
    );
    expect(made.stdout).not.toContain("No data");
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(join(DASHBOARD_OUTPUT, "index.html")).href);
      const images = await page.locator("img").evaluateAll((all) =>
        (all as HTMLImageElement[]).map((img) => ({
          title: img.alt,
          loaded: img.complete && img.naturalWidth > 0,
        })),
      );
      expect(images.map((image) => image.title)).toEqual(
        dashboard.panels.map((panel: any) => panel.title),
      );
      expect(images.filter((image) => !image.loaded)).toEqual([]);
      expect(await page.getByText("No data").count()).toBe(0);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
