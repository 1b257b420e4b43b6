/**
 * make dashboard, as a user runs it, against the live stack: after traffic of every kind, it
 * draws each panel of the dashboard Grafana provisions with data, and a real browser (Debian's
 * Chromium) shows the page with every panel's image loaded and none saying "No data".
 */
import { execFile as execFileCallback } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { DASHBOARD_OUTPUT } from "../../scripts/dashboard/output.ts";
import { DASHBOARD_FILE } from "../../scripts/dashboard/panels.ts";
import { ROOT } from "../../scripts/stack/settings.ts";
import { sendTrafficOfEveryKind } from "./dashboard-traffic.ts";

const execFile = promisify(execFileCallback);
const titles: string[] = JSON.parse(readFileSync(join(ROOT, DASHBOARD_FILE), "utf8")).panels.map(
  (panel: { title: string }) => panel.title,
);
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const makeDashboard = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFile(process.execPath, ["--import", "tsx", "scripts/dashboard/dashboard.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, ...env },
  });

describe("make dashboard", () => {
  it("after traffic of every kind, draws every panel with data, and Chromium shows each panel's image loaded and none saying No data", async () => {
    await sendTrafficOfEveryKind();
    const made = await makeDashboard(["--from", "now-15m", "--to", "now"]);

    expect(made.stdout).not.toContain("No data");
    const page = join(DASHBOARD_OUTPUT, "index.html");
    expect(made.stdout).toContain(`page: ${page}`);
    const pngs = made.stdout.match(/\S+\/panel-[^\s]+\.png/g) ?? [];
    expect(pngs).toHaveLength(titles.length);
    for (const png of pngs) expect(existsSync(png)).toBe(true);

    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(pathToFileURL(page).href);
      const images = await tab.locator("img").evaluateAll((all) =>
        (all as HTMLImageElement[]).map((img) => ({
          title: img.alt,
          loaded: img.complete && img.naturalWidth > 0,
        })),
      );
      expect(images.map((image) => image.title)).toEqual(titles);
      expect(images.filter((image) => !image.loaded)).toEqual([]);
      expect(await tab.getByText("No data").count()).toBe(0);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it("takes its range from DASHBOARD_FROM and DASHBOARD_TO, and prints it", async () => {
    const to = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const from = new Date(to.getTime() - 10 * 60_000);
    const made = await makeDashboard([], {
      DASHBOARD_FROM: from.toISOString(),
      DASHBOARD_TO: to.toISOString(),
    });
    const hhmm = (date: Date) =>
      `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
    expect(made.stdout.split("\n")[0]).toMatch(
      new RegExp(`${hhmm(from)} \\(UTC.*\\) to \\S+ ${hhmm(to)} `),
    );
  }, 60_000);

  it("fails, saying so, when Prometheus does not answer", async () => {
    const failed = await makeDashboard([], { PROMETHEUS_URL: "http://127.0.0.1:1" }).catch(
      (error) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("make dashboard: fetch failed");
  }, 60_000);
});
