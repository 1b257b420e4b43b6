/**
 * Alerts that reach someone: Prometheus's rules, Alertmanager's routes and the local receiver's
 * log (.state/logs/alerts.jsonl), with the shipped timings read from the running stack's configs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT, workerProcesses } from "../../scripts/stack/settings.ts";
import { supervisorctl } from "../../scripts/stack/supervisor.ts";
import {
  evaluationSeconds,
  groupIntervalSeconds,
  groupWaitSeconds,
  type Notification,
  notified,
  SLACK_SECONDS,
  scrapeSeconds,
  seconds,
} from "./alert-log.ts";
import { call, prometheusQuery, settings, stack, within } from "./client.ts";

const replicaDown = parse(readFileSync(join(ROOT, "deployments/prometheus/rules.yml"), "utf8"))
  .groups.flatMap((group: any) => group.rules)
  .find((rule: any) => rule.alert === "ReplicaDown");

describe("alerts", () => {
  it("Prometheus has every process of the stack as a target, each up, node exporter included", async () => {
    type Target = { labels: { job: string; instance: string }; health: string };
    const targetsNow = async (): Promise<Target[]> =>
      (await call("/api/v1/targets", { httpPort: settings.prometheusPort })).json().data
        .activeTargets;
    // A process an earlier file restarted is up again by the next scrape.
    await within(2 * scrapeSeconds * 1000 + 1000, async () =>
      (await targetsNow()).every((t) => t.health === "up"),
    );
    const targets = await targetsNow();
    const jobs = new Set(targets.map((t) => t.labels.job));
    for (const job of [
      "nginx",
      "prometheus",
      "alertmanager",
      "alert-receiver",
      "node",
      "mtail",
      ...new Set(workerProcesses(settings).map((p) => p.worker)),
    ])
      expect(jobs, job).toContain(job);
    expect(targets.length).toBe(workerProcesses(settings).length + 6);
    expect(targets.filter((t) => t.health !== "up")).toEqual([]);
    // node exporter says something about the host.
    expect(await prometheusQuery("node_memory_MemAvailable_bytes")).not.toEqual([]);
  });

  it("make status lists Alertmanager, its receiver, node exporter and mtail, each healthy", async () => {
    const { stdout } = await stack("status");
    for (const program of ["alertmanager", "alert-receiver", "node-exporter", "mtail"])
      expect(stdout, program).toMatch(new RegExp(`^${program} +RUNNING .* healthy \\(`, "m"));
  });

  it("the dead man's switch reaches the receiver's heartbeat every minute, and its /health says so", async () => {
    const since = Date.now();
    const arrived = await notified(
      since,
      75,
      (n) =>
        n.receiver === "heartbeat" && n.alerts.some((a) => a.labels.alertname === "DeadMansSwitch"),
    );
    expect(arrived).toBeDefined();
    const health = await call("/health", { httpPort: settings.alertReceiverPort });
    expect(health.status).toBe(200);
    expect(health.json().secondsSinceHeartbeat).toBeLessThan(5);
  }, 90_000);

  it("v2 stopped pages within ReplicaDown's for, two scrapes and group_wait; started again, the resolved notification follows", async () => {
    const v2 = workerProcesses(settings).find((p) => p.worker === "v2")!;
    const isV2Down = (status: string) => (n: Notification) =>
      n.receiver === "page" &&
      n.status === status &&
      n.alerts.some(
        (a) =>
          a.labels.alertname === "ReplicaDown" &&
          a.labels.instance === `127.0.0.1:${v2.opsPort}` &&
          a.status === status,
      );
    const firingBound =
      seconds(replicaDown.for) +
      2 * scrapeSeconds +
      evaluationSeconds +
      groupWaitSeconds +
      SLACK_SECONDS;
    const stopped = Date.now();
    supervisorctl("stop", v2.name);
    let fired: number | undefined;
    try {
      fired = await notified(stopped, firingBound, isV2Down("firing"));
    } finally {
      supervisorctl("start", v2.name);
    }
    expect(fired, `firing within ${firingBound} s`).toBeDefined();
    // Not before the rule's for: the alert waited, as it should.
    expect(fired!).toBeGreaterThanOrEqual(seconds(replicaDown.for));
    const started = Date.now();
    const resolvedBound =
      2 * scrapeSeconds + evaluationSeconds + groupIntervalSeconds + SLACK_SECONDS;
    const resolved = await notified(started, resolvedBound, isV2Down("resolved"));
    expect(resolved, `resolved within ${resolvedBound} s`).toBeDefined();
  }, 200_000);
});
