import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadSettings, ROOT } from "../stack/settings.ts";
import { budgetRemaining, errorsRatio, SLO_ALERTS, sloRules } from "./slo-rules.ts";

const RULES = join(ROOT, "deployments/prometheus/slo-rules.yml");

describe("deployments/prometheus/slo-rules.yml", () => {
  it("is exactly what scripts/slo/slo-rules.ts generates from settings.env's objectives", () => {
    expect(readFileSync(RULES, "utf8")).toBe(sloRules(loadSettings({}).slo));
  });

  it("follows the objectives: another threshold, objective and window", () => {
    const rules = sloRules({
      windowDays: 28,
      availability: 0.995,
      latency: 0.95,
      latencySeconds: 0.1,
    });
    expect(rules).toContain(`${errorsRatio("availability", "28d")}\n`);
    expect(rules).toContain(`expr: 1 - ${errorsRatio("latency", "28d")} / 0.05\n`);
    expect(rules).toContain('_bucket{le="0.1"}[5m]');
    // 2% of 28 days' budget in an hour: 13.44x.
    expect(rules).toContain(`${errorsRatio("availability", "1h")} / 0.005 > 13.44 and on()`);
  });

  it("has every ratio, both budgets and four alerts for each SLO", () => {
    const { groups } = parse(readFileSync(RULES, "utf8"));
    const rules = groups.flatMap((group: { rules: unknown[] }) => group.rules);
    const records = rules.map((rule: { record?: string }) => rule.record).filter(Boolean);
    for (const sli of ["availability", "latency"] as const) {
      for (const w of ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"])
        expect(records).toContain(errorsRatio(sli, w));
      expect(records).toContain(budgetRemaining(sli));
      const alerts = rules.filter((rule: { alert?: string }) => rule.alert === SLO_ALERTS[sli]);
      expect(
        alerts.map((a: { labels: Record<string, string>; for: string }) => [a.labels, a.for]),
      ).toEqual([
        [{ severity: "page", slo: sli, long_window: "1h", short_window: "5m" }, "2m"],
        [{ severity: "page", slo: sli, long_window: "6h", short_window: "30m" }, "15m"],
        [{ severity: "ticket", slo: sli, long_window: "1d", short_window: "2h" }, "1h"],
        [{ severity: "ticket", slo: sli, long_window: "3d", short_window: "6h" }, "3h"],
      ]);
    }
  });

  it("passes promtool's check and its tests (slo-rules.test.yml: fast and slow burns, blips, no traffic)", () => {
    const promtool = (...args: string[]) => {
      try {
        return execFileSync("promtool", args, { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
      } catch (error) {
        // Its failures are on stdout: which alert, at which minute, expected and got.
        const { stdout, stderr } = error as { stdout: string; stderr: string };
        throw new Error(`promtool ${args.join(" ")} failed:\n${stdout}${stderr}`);
      }
    };
    expect(promtool("check", "rules", RULES)).toContain("SUCCESS");
    expect(promtool("test", "rules", "deployments/prometheus/slo-rules.test.yml")).toContain(
      "SUCCESS",
    );
  }, 120_000);
});
