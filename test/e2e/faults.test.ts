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
import { loadSettings } from "../../scripts/stack/settings.ts";
import { pidOf, supervisorctl } from "../../scripts/stack/supervisor.ts";
import { call, freshClient, predict, settings, type Reply } from "./client.ts";


async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

/**
 * `rps` requests a second for `seconds`, round-robin over just enough client addresses that none
 * outruns its budget (burst + refill over the run). Few addresses on purpose: each one is a
 * Durable Object in the gateway, ~130 KB of memory in local workerd.
 */
async function steadyLoad(rps: number, seconds: number, during?: () => Promise<void>) {
  const burst = Number(settings.gatewayVars.RATE_LIMIT_BURST);
  const refill = Number(settings.gatewayVars.RATE_LIMIT_RPS);
  const total = rps * seconds;
  const clients = Array.from({ length: Math.ceil((total / (burst + refill * seconds)) * 1.25) }, freshClient);
  const failures: string[] = [];
  const pending: Promise<void>[] = [];
  let sent = 0;
  const started = Date.now();
  const action = during ? sleep(1000).then(during) : Promise.resolve();
  while (sent < total) {
    const client = clients[sent % clients.length]!;
    sent++;
    pending.push(
      predict("steady as she goes", { from: client, headers: { Connection: "close" } }).then(
        (reply: Reply) => void (reply.status !== 200 && failures.push(`${reply.status} ${reply.body.slice(0, 120)}`)),
        (error: Error) => void failures.push(error.message),
      ),
    );
    // Paced against the clock, not by a fixed sleep, so that the rate holds whatever each send costs.
    await sleep(Math.max(0, started + (sent * 1000) / rps - Date.now()));
  }
  await Promise.all([...pending, action]);
  return { sent, failures };
}

describe("faults", () => {
  it("loses no request when a v1 replica is killed with -9 under load, and the replica is back within 5 s", async () => {
    const victim = "v1-1";
    const oldPid = pidOf(victim);
    let restartedInMs = -1;
    const { sent, failures } = await steadyLoad(100, 20, async () => {
      process.kill(oldPid, "SIGKILL");
      const opsPort = settings.v1OpsBasePort + 1;
      restartedInMs = await until(async () => pidOf(victim) !== oldPid && (await call("/health", { httpPort: opsPort })).status === 200, 5000);
    });
    expect(sent).toBe(2000);
    expect(failures).toEqual([]);
    expect(restartedInMs).toBeGreaterThanOrEqual(0);
    expect(restartedInMs).toBeLessThanOrEqual(5000);
  }, 60_000);

  it("keeps a limited client limited across a gateway restart", async () => {
    const client = freshClient();
    const burst = Number(settings.gatewayVars.RATE_LIMIT_BURST);
    const replies = await Promise.all(Array.from({ length: burst + 3 }, () => predict("hello", { from: client })));
    expect(replies.map((r) => r.status)).toContain(429);
    supervisorctl("restart", "gateway");
    await until(async () => (await call("/health", { httpPort: settings.gatewayOpsPort })).status === 200, 5000);
    expect((await predict("hello", { from: client })).status).toBe(429);
    expect((await predict("hello", { from: freshClient() })).status).toBe(200);
  }, 30_000);

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
      expect((await call("/health")).json()).toMatchObject({ status: "degraded", upstreams: { v1: { ok: true }, v2: { ok: false } } });
    } finally {
      supervisorctl("start", "v2");
    }
    await until(async () => (await predict("hi", { headers: { "X-Experiment-Group": "debug" } })).status === 200, 5000);
  }, 30_000);

  it("answers a debug request with 504 when v2 hangs past the upstream timeout, and v1 is unaffected", async () => {
    const timeoutMs = Number(settings.gatewayVars.UPSTREAM_TIMEOUT_MS);
    const v2Pid = pidOf("v2");
    process.kill(v2Pid, "SIGSTOP"); // alive, connected, never answering: what a hung process looks like
    try {
      const started = Date.now();
      const hung = predict("hi", { headers: { "X-Experiment-Group": "debug" } });
      expect((await predict("hi")).status).toBe(200);
      const debug = await hung;
      const elapsedMs = Date.now() - started;
      expect(debug.status).toBe(504);
      expect(debug.headers["content-type"]).toBe("application/problem+json");
      expect(debug.json()).toMatchObject({ status: 504, detail: `the v2 model did not answer within ${timeoutMs} ms` });
      expect(elapsedMs).toBeGreaterThanOrEqual(timeoutMs);
      expect(elapsedMs).toBeLessThan(timeoutMs + 2000);
    } finally {
      process.kill(v2Pid, "SIGCONT");
    }
    expect(pidOf("v2")).toBe(v2Pid);
    await until(async () => (await predict("hi", { headers: { "X-Experiment-Group": "debug" } })).status === 200, 5000);
  }, 30_000);

  it("keeps serving while Prometheus and the exporter are down", async () => {
    supervisorctl("stop", "prometheus", "nginx-exporter");
    try {
      const replies = await Promise.all(Array.from({ length: 10 }, () => predict("still here?")));
      expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    } finally {
      supervisorctl("start", "prometheus", "nginx-exporter");
    }
  }, 30_000);

  it("loses no request when nginx reloads a changed config under load", async () => {
    const original = readFileSync(rendered.nginx, "utf8");
    const { sent, failures } = await steadyLoad(100, 6, async () => {
      // A real change: the benchmark-only location appears; then the reload.
      renderAll(loadSettings(), nativeTopology(settings), { benchmark: true });
      expect(readFileSync(rendered.nginx, "utf8")).not.toBe(original);
      supervisorctl("signal", "HUP", "nginx");
      await sleep(2000);
      expect((await call("/bench/ceiling")).status).toBe(200);
    });
    expect(sent).toBe(600);
    expect(failures).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    // Leave the stack as the other suites expect it: the production nginx config, all healthy.
    renderAll(loadSettings(), nativeTopology(settings));
    supervisorctl("signal", "HUP", "nginx");
    await until(async () => (await call("/health")).json().status === "ok", 10_000);
  }, 20_000);
});
