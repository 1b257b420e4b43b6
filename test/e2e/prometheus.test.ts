import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { call, predict, prometheusQuery, prometheusValue, settings } from "./client.ts";
import { workerProcesses } from "../../scripts/stack/settings.ts";
import { VARIANTS } from "../../workers/manifest.ts";

// Clients' requests: the gateway's shadow copies are counted apart (route="shadow").
/**
 * The gateway's requests, from its series scraped in the last 15 s only: a series an earlier
 * process had, last scraped before Prometheus itself restarted (the faults rows stop it), gets no
 * staleness marker and lingers for the 5-minute lookback; its end would move the sum.
 */
const SERIES = 'fortress_requests_total{route!="shadow"}';
const gatewayRequests = () =>
  prometheusValue(`sum(${SERIES} and (time() - timestamp(${SERIES}) < 15))`);

async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(500);
    value = await read();
  }
  return value;
}

describe("Prometheus", () => {
  it("has every process as a target, up, with job and instance", async () => {
    // The monitoring's own: the nginx exporter, Prometheus, Alertmanager and its receiver, node
    // exporter, mtail.
    const monitoring = ["nginx", "prometheus", "alertmanager", "alert-receiver", "node", "mtail"];
    const expected = workerProcesses(settings).length + monitoring.length;
    const up = await until(
      () => prometheusQuery("up == 1"),
      (r) => r.length === expected,
    );
    expect(up).toHaveLength(expected);
    const jobs = up.map((r) => r.metric.job).sort();
    expect(new Set(jobs)).toEqual(new Set(["gateway", ...monitoring, ...VARIANTS]));
    for (const variant of VARIANTS)
      expect(jobs.filter((j) => j === variant)).toHaveLength(settings.variants[variant].replicas);
  });

  it("counts in the gateway's metrics exactly the /predict traffic sent", async () => {
    // Scrapes happen every 5 s: let one pass, send, then wait for the figure to move by exactly that much.
    await sleep(6000);
    const settled = await gatewayRequests();
    const sent = 7;
    for (let i = 0; i < sent; i++) await predict("count me");
    const after = await until(gatewayRequests, (v) => v >= settled + sent);
    expect(after - settled).toBe(sent);
  });

  it("is not reachable through the public ports", async () => {
    expect((await call("/api/v1/query?query=up")).status).toBe(404);
  });
});
