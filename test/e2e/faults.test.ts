/**
 * Faults survived, on the running stack: bounded in time and count, loopback only.
 *
 * The steady load comes from this process, not wrk or autocannon: it must come from many client
 * addresses (each its own rate-limit budget), and neither binds source addresses. Each request
 * opens its own connection: a reused keep-alive connection that the server closes at the same
 * moment fails on the client's side whatever the server does, which is not what is measured here.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { renderAll, nativeTopology, rendered } from "../../scripts/stack/render.ts";
import { loadSettings, workerProcesses } from "../../scripts/stack/settings.ts";
import { pidOf, supervisorctl } from "../../scripts/stack/supervisor.ts";
import { call, freshClient, percentile, predict, settings, steadyLoad } from "./client.ts";

const opsPortOf = (program: string) =>
  workerProcesses(settings).find((p) => p.name === program)!.opsPort;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

describe("faults", () => {
  it("loses no request when a v1 replica is killed with -9 under load, and the replica is back within 5 s", async () => {
    const victim = "v1-1";
    const oldPid = pidOf(victim);
    let restartedInMs = -1;
    const { cutShort, failures } = await steadyLoad(100, 20, async () => {
      process.kill(oldPid, "SIGKILL");
      const opsPort = opsPortOf(victim);
      restartedInMs = await until(
        async () =>
          pidOf(victim) !== oldPid && (await call("/health", { httpPort: opsPort })).status === 200,
        5000,
      );
    });
    expect(cutShort, "the load went on until a second after the action").toBe(false);
    expect(failures).toEqual([]);
    expect(restartedInMs).toBeGreaterThanOrEqual(0);
    expect(restartedInMs).toBeLessThanOrEqual(5000);
  }, 90_000);

  it("takes a hung v1 replica out of the pool under 20 req/s: no failed request, p99 <= 3 s, and the watchdog replaces it within 30 s", async () => {
    const victim = "v1-2";
    const hungPid = pidOf(victim);
    let replacedInMs = -1;
    const { cutShort, failures, latenciesMs } = await steadyLoad(20, 30, async () => {
      process.kill(hungPid, "SIGSTOP"); // alive, connected, never answering
      try {
        replacedInMs = await until(async () => pidOf(victim) !== hungPid, 30_000);
      } finally {
        // If the watchdog did not kill it, it must not stay stopped for the suites after this one.
        if (pidOf(victim) === hungPid) process.kill(hungPid, "SIGCONT");
      }
    });
    expect(cutShort, "the load went on until a second after the action").toBe(false);
    expect(failures).toEqual([]);
    expect(percentile(latenciesMs, 99)).toBeLessThanOrEqual(3000);
    expect(replacedInMs).toBeGreaterThanOrEqual(0);
    await until(
      async () => (await call("/health", { httpPort: opsPortOf(victim) })).status === 200,
      10_000,
    );
  }, 120_000);

  it("answers only 503 problems with Retry-After, for at most 1.5 s, when the gateway is killed with -9 under 100 req/s", async () => {
    const oldPid = pidOf("gateway");
    const { cutShort, failed } = await steadyLoad(100, 8, async () => {
      process.kill(oldPid, "SIGKILL");
      // Polled over HTTP, not with supervisorctl: any supervisorctl call would itself make
      // supervisord notice the exit sooner, and hide a slow restart.
      await sleep(50);
      await until(
        async () => (await call("/health", { httpPort: settings.gatewayOpsPort })).status === 200,
        5000,
      );
    });
    expect(cutShort, "the load went on until a second after the action").toBe(false);
    for (const { reply, error } of failed) {
      expect(error).toBeUndefined();
      expect(reply!.status).toBe(503);
      expect(reply!.headers["content-type"]).toBe("application/problem+json");
      expect(reply!.headers["retry-after"]).toBe("1");
    }
    const sentAt = failed.map((f) => f.sentAtMs);
    if (sentAt.length > 0)
      expect(Math.max(...sentAt) - Math.min(...sentAt)).toBeLessThanOrEqual(1500);
    expect(pidOf("gateway")).not.toBe(oldPid);
  }, 60_000);

  it("keeps a limited client limited across a gateway restart, while its next token is still far away", async () => {
    const client = freshClient();
    const burst = Number(settings.gatewayVars.RATE_LIMIT_BURST);
    const replies = await Promise.all(
      Array.from({ length: burst + 3 }, () => predict("hello", { from: client })),
    );
    const refused = replies.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    // The margin is the client's own wait (make test: one token per 50 s), not the restart's speed:
    // a restart that forgot the client would hand it a full budget at once.
    const waitMs = Math.min(...refused.map((r) => Number(r.headers["retry-after"]))) * 1000;
    expect(waitMs).toBeGreaterThanOrEqual(30_000);
    const limitedAt = Date.now();
    const oldPid = pidOf("gateway");
    supervisorctl("restart", "gateway"); // throws unless supervisorctl says it did
    expect(pidOf("gateway")).not.toBe(oldPid);
    await until(
      async () => (await call("/health", { httpPort: settings.gatewayOpsPort })).status === 200,
      20_000,
    );
    const after = await predict("hello", { from: client });
    expect(
      Date.now() - limitedAt,
      "the restart outlasted the client's wait: nothing proven",
    ).toBeLessThan(waitMs);
    expect(after.status).toBe(429);
    expect((await predict("hello", { from: freshClient() })).status).toBe(200);
  }, 40_000);

  it("answers debug requests with 503 and Retry-After while v2 is down, and v1 is unaffected", async () => {
    supervisorctl("stop", "v2");
    try {
      const debug = await predict("hi", { headers: { "X-Experiment-Group": "debug" } });
      expect(debug.status).toBe(503);
      expect(debug.headers["content-type"]).toBe("application/problem+json");
      expect(Number(debug.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect((await predict("hi")).status).toBe(200);
      // /health answers from the last probe, at most a second old.
      await until(async () => (await call("/health")).json().status === "degraded", 3000);
      expect((await call("/health")).json()).toMatchObject({
        status: "degraded",
        upstreams: { v1: { ok: true }, v2: { ok: false } },
      });
    } finally {
      supervisorctl("start", "v2");
    }
    await until(
      async () =>
        (await predict("hi", { headers: { "X-Experiment-Group": "debug" } })).status === 200,
      5000,
    );
  }, 30_000);

  it("answers a debug request to a hung v2 with a 503 or 504 problem within the upstream timeout, v1 and the gateway's /health unaffected, and the watchdog replaces v2", async () => {
    const timeoutMs = Number(settings.gatewayVars.UPSTREAM_TIMEOUT_MS);
    const v2Pid = pidOf("v2");
    process.kill(v2Pid, "SIGSTOP"); // alive, connected, never answering: what a hung process looks like
    try {
      const started = Date.now();
      const hung = predict("hi", { headers: { "X-Experiment-Group": "debug" } });
      expect((await predict("hi")).status).toBe(200);
      // The gateway's /health (its liveness, for the watchdog) answers from the last probe: a
      // hung upstream does not make it wait. A stall check, not a speed target.
      await sleep(1100);
      for (let i = 0; i < 3; i++) {
        const asked = Date.now();
        expect((await call("/health", { httpPort: settings.gatewayOpsPort })).status).toBe(200);
        expect(Date.now() - asked).toBeLessThan(500);
        await sleep(400);
      }
      const debug = await hung;
      // The gateway's timeout (504), or the watchdog killing v2 first (~3 s: the gateway finds it
      // gone and answers 503 with Retry-After); either way a problem, never a hang.
      expect([503, 504]).toContain(debug.status);
      expect(debug.headers["content-type"]).toBe("application/problem+json");
      expect(Date.now() - started).toBeLessThan(timeoutMs + 2000);
      await until(async () => pidOf("v2") !== v2Pid, 30_000);
    } finally {
      if (pidOf("v2") === v2Pid) process.kill(v2Pid, "SIGCONT");
    }
    await until(
      async () =>
        (await predict("hi", { headers: { "X-Experiment-Group": "debug" } })).status === 200,
      15_000,
    );
  }, 60_000);

  it("keeps serving while Prometheus and the exporter are down, and they come back as new processes", async () => {
    const before = [pidOf("prometheus"), pidOf("nginx-exporter")];
    supervisorctl("stop", "prometheus", "nginx-exporter");
    try {
      expect(() => pidOf("prometheus")).toThrow(/not running/);
      const replies = await Promise.all(Array.from({ length: 10 }, () => predict("still here?")));
      expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    } finally {
      supervisorctl("start", "prometheus", "nginx-exporter");
    }
    const after = [pidOf("prometheus"), pidOf("nginx-exporter")];
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
  }, 30_000);

  it("loses no request when nginx reloads a changed config under load", async () => {
    const original = readFileSync(rendered.nginx, "utf8");
    const { cutShort, failures } = await steadyLoad(100, 6, async () => {
      // A real change: the benchmark-only location appears; then the reload.
      renderAll(loadSettings(), nativeTopology(settings), { benchmark: true });
      expect(readFileSync(rendered.nginx, "utf8")).not.toBe(original);
      supervisorctl("signal", "HUP", "nginx");
      await sleep(2000);
      expect((await call("/bench/ceiling")).status).toBe(200);
    });
    expect(cutShort, "the load went on until a second after the action").toBe(false);
    expect(failures).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    // Leave the stack as the other suites expect it: the production nginx config, all healthy.
    renderAll(loadSettings(), nativeTopology(settings));
    supervisorctl("signal", "HUP", "nginx");
    await until(async () => (await call("/health")).json().status === "ok", 10_000);
  }, 20_000);
});
