/**
 * make bench's load and timings: wrk against the stack (2 threads, keep-alive, on the same cores as
 * the stack), cold starts, the gateway's respawn, inference alone in workerd, and a signed-in
 * client under a wrong-password flood. Each returns what it measured.
 */
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { dataPaths, readDataset } from "../model/training/dataset.ts";
import type { PeerForm } from "./peer/peer.ts";
import { NGINX_ACCESS_LOG, workerdBinary, workerdConfigOf } from "../scripts/stack/render.ts";
import { workerdConfig } from "../scripts/stack/workerd-config.ts";
import { pidOf } from "../scripts/stack/supervisor.ts";
import { readCredentials } from "../scripts/stack/secrets.ts";
import {
  loadSettings,
  paths,
  readWranglerConfig,
  ROOT,
  stableProcesses,
  WRANGLER_CONFIGS,
} from "../scripts/stack/settings.ts";

/** Raised for the benchmark so that it measures throughput, not the limiter saying no. */
/** The limits raised out of the way, each still checked on every request. */
export const BENCH_ENV = {
  ...process.env,
  RATE_LIMIT_RPS: "1000000",
  RATE_LIMIT_BURST: "1000000",
  CONSUMER_RATE_LIMIT_RPS: "1000000",
  CONSUMER_RATE_LIMIT_BURST: "1000000",
};
export const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const STACK = ["tsx", "scripts/stack/stack.ts"];
export const settings = loadSettings(BENCH_ENV);
const execFileAsync = promisify(execFile);
const base = `https://127.0.0.1:${settings.httpsPort}`;

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /**
   * The longest time a wrk thread (half the connections) got no answer on any of its connections:
   * at 16 connections a pause of the chain, at 1 the slowest request (bench/post.lua).
   */
  longestPauseMs: number;
  errors: number;
}

/** Where wrk sends its load: our front with the stack's credentials, or the peer's. */
export interface Target {
  base: string;
  authorization: string;
}

export function ours(): Target {
  const { user, password } = readCredentials();
  return { base, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}

/** Ours, signed in by an API key instead: a consumer of the run's own (the raised default limits). */
export async function oursWithApiKey(): Promise<Target> {
  const { consumers, freshConsumer } = await import("../test/e2e/client.ts");
  const { key } = await consumers(["add", freshConsumer("bench")]);
  await sleep(5000); // in every gateway isolate's view
  return { base, authorization: `Bearer ${key}` };
}

/**
 * The sign-in flood rows (test/e2e/sign-in-flood.ts) from one address and from twenty, each at the
 * shipped per-address rate (wrangler.toml's RATE_LIMIT_RPS), here with the limits raised.
 */
export async function signInFloods() {
  const { signInFlood } = await import("../test/e2e/sign-in-flood.ts");
  const shippedRate = Number(readWranglerConfig("gateway").vars!.RATE_LIMIT_RPS);
  return {
    one: await signInFlood(settings, 1, shippedRate),
    twenty: await signInFlood(settings, 20, shippedRate),
  };
}

/** wrk's arguments and environment for a load of `connections` on `path`. */
function wrkCommand(path: string, connections: number, group: string, target: Target) {
  return {
    args: [
      `-t${Math.min(2, connections)}`,
      `-c${connections}`,
      `-d${LOAD_SECONDS}s`,
      "--latency",
      "-s",
      join(ROOT, "bench/post.lua"),
      `${target.base}${path}`,
    ],
    env: {
      ...process.env,
      BENCH_AUTHORIZATION: target.authorization,
      BENCH_EXPERIMENT_GROUP: group,
    },
  };
}

/** What wrk printed, read. */
function wrkResult(output: string): LoadResult {
  const ms = (label: string) => {
    const m = output.match(new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)$`, "m"));
    if (!m) throw new Error(`wrk printed no ${label}th percentile:\n${output}`);
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as "us" | "ms" | "s"];
  };
  const count = (pattern: RegExp) => Number(output.match(pattern)?.[1] ?? 0);
  return {
    requests: Number(output.match(/(\d+) requests in/)![1]),
    requestsPerSecond: Number(output.match(/Requests\/sec:\s+([\d.]+)/)![1]),
    p50Ms: ms("50"),
    p90Ms: ms("90"),
    p99Ms: ms("99"),
    longestPauseMs: Number(output.match(/^longest pause: ([\d.]+) ms$/m)![1]),
    errors:
      count(/Non-2xx or 3xx responses: (\d+)/) +
      count(/Socket errors: connect (\d+)/) +
      count(/read (\d+), write/) +
      count(/timeout (\d+)/),
  };
}

export function wrk(path: string, connections: number, group = "", target = ours()): LoadResult {
  const { args, env } = wrkCommand(path, connections, group, target);
  return wrkResult(execFileSync("wrk", args, { encoding: "utf8", env }));
}

/** wrk, without blocking: for two loads at once. */
export async function wrkAlongside(
  path: string,
  connections: number,
  group = "",
  target = ours(),
): Promise<LoadResult> {
  const { args, env } = wrkCommand(path, connections, group, target);
  return wrkResult((await execFileAsync("wrk", args, { encoding: "utf8", env })).stdout);
}

/**
 * Shadow copies against v2's canary and debug clients: v1's clients (16 connections) and debug
 * clients (4) at once, at SHADOW_PERCENT 0 and 100, with v2 as it is and slowed (stopped 5 ms of
 * every 10: half its time). What v1's and the debug clients got in each, and the copies' outcomes.
 */
export async function shadowAgainstV2Clients() {
  const { restartGatewayWith } = await import("../test/e2e/client.ts");
  const outcomes = async () => {
    const text = await (await fetch(`http://127.0.0.1:${settings.gatewayOpsPort}/metrics`)).text();
    return Object.fromEntries(
      [...text.matchAll(/^fortress_shadow_predictions_total\{outcome="(\w+)"\} (\d+)$/gm)].map(
        ([, outcome, n]) => [outcome!, Number(n)],
      ),
    );
  };
  const rows = [];
  try {
    for (const v2 of ["as it is", "slowed"] as const) {
      for (const shadowPercent of [0, 100]) {
        await restartGatewayWith({ ...BENCH_ENV, SHADOW_PERCENT: String(shadowPercent) });
        wrk("/predict", 4); // the restarted gateway's warm-up
        const v2Pid = pidOf("v2");
        const slowing =
          v2 === "slowed"
            ? setInterval(() => {
                process.kill(v2Pid, "SIGSTOP");
                setTimeout(() => process.kill(v2Pid, "SIGCONT"), 5);
              }, 10)
            : undefined;
        try {
          const [v1, debug] = await Promise.all([
            wrkAlongside("/predict", 16),
            wrkAlongside("/predict", 4, "debug"),
          ]);
          rows.push({ v2, shadowPercent, v1, debug, shadow: await outcomes() });
        } finally {
          clearInterval(slowing);
          await sleep(10);
          process.kill(v2Pid, "SIGCONT");
        }
      }
    }
  } finally {
    await restartGatewayWith(BENCH_ENV);
  }
  return rows;
}

/**
 * `rounds` rounds, each loading ours and then each form of the peer: every ratio compares loads
 * seconds apart on the same machine.
 */
export function sideBySide(peers: Record<PeerForm, Target>, connections: number, rounds: number) {
  return Array.from({ length: rounds }, () => {
    const ourLoad = wrk("/predict", connections);
    const peerLoads = Object.fromEntries(
      Object.entries(peers).map(([form, peer]) => [form, wrk("/predict", connections, "", peer)]),
    ) as Record<PeerForm, LoadResult>;
    return { ours: ourLoad, peers: peerLoads };
  });
}

export interface HopTimings {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/**
 * nginx's own timing ($request_time) of the /predict requests it logged while `measure` ran: the
 * front (from the request's first byte to the answer's last, the gateway and all behind it) and
 * the pool hop (the gateway's call to a replica). Beside wrk's figures, it tells a pause of the
 * chain (a few requests at its length) from slow requests.
 */
export async function withNginxTimings<T>(
  measure: () => T,
): Promise<T & { nginx: { front: HopTimings; pool: HopTimings } }> {
  const { percentile } = await import("../test/e2e/client.ts");
  const from = Math.floor(Date.now() / 1000) * 1000; // the log's times are whole seconds
  const result = measure();
  const to = Date.now();
  await sleep(1500); // nginx flushes its log buffer every second
  const front: number[] = [];
  const pool: number[] = [];
  const log = join(paths.logs, NGINX_ACCESS_LOG);
  const lines = [`${log}.1`, log]
    .filter(existsSync)
    .flatMap((file) => readFileSync(file, "utf8").split("\n"));
  for (const line of lines) {
    // Answered ones only: wrk's requests still in flight when it stops are logged as 499.
    const m = line.match(/^(\S+) (\S+) "POST \/predict [^"]*" 200 \d+ rid=\S* rt=([\d.]+) /);
    if (!m) continue;
    const loggedAt = Date.parse(m[1]!);
    if (loggedAt < from || loggedAt > to) continue;
    (m[2] === "unix:" ? pool : front).push(Number(m[3]) * 1000);
  }
  const timings = (ms: number[], hop: string): HopTimings => {
    if (ms.length === 0) throw new Error(`nginx logged no /predict request of the ${hop} (${log})`);
    return {
      requests: ms.length,
      p50Ms: percentile(ms, 50),
      p99Ms: percentile(ms, 99),
      p999Ms: percentile(ms, 99.9),
    };
  };
  return { ...result, nginx: { front: timings(front, "front"), pool: timings(pool, "pool hop") } };
}

async function firstOk(url: string, init: RequestInit, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      if ((await fetch(url, init)).status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error(`${url} gave no 200 within ${timeoutMs} ms`);
}

/** The stack from nothing to the first 200 of /predict, through HTTPS. */
export async function coldStartStack(): Promise<number> {
  spawnSync("npx", [...STACK, "stop"], { stdio: "ignore" });
  const started = performance.now();
  execFileSync("npx", [...STACK, "start", "--benchmark"], {
    env: BENCH_ENV,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const credentials = readCredentials();
  const status = execFileSync(
    "curl",
    [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--cacert",
      join(paths.certs, "nginx.crt"),
      "-u",
      `${credentials.user}:${credentials.password}`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"sentence":"I love this!"}',
      `https://localhost:${settings.httpsPort}/predict`,
    ],
    { encoding: "utf8" },
  );
  if (status !== "200") throw new Error(`first /predict after start gave ${status}`);
  return performance.now() - started;
}

/** One more stable-variant process, from spawn to its first 200, its traffic socket on a loopback port of its own. */
export async function coldStartReplica(): Promise<number> {
  const config = workerdConfigOf(paths, stableProcesses(settings)[0]!.name);
  const started = performance.now();
  const child = spawn(
    workerdBinary,
    ["serve", config, "--socket-addr=http=127.0.0.1:9299", "--socket-addr=ops=127.0.0.1:9297"],
    { stdio: "ignore" },
  );
  try {
    const body = '{"sentence":"I love this!"}';
    await firstOk(
      "http://127.0.0.1:9299/predict",
      { method: "POST", headers: { "Content-Type": "application/json" }, body },
      10_000,
    );
    return performance.now() - started;
  } finally {
    child.kill("SIGTERM");
  }
}

/**
 * The gateway from kill -9 to a healthy ops /health, as supervisord restarts it: `times` runs,
 * a few seconds apart. Polled every 5 ms.
 */
export async function gatewayRespawnMs(times: number): Promise<number[]> {
  const health = `http://127.0.0.1:${settings.gatewayOpsPort}/health`;
  const respawns: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    process.kill(pidOf("gateway"), "SIGKILL");
    await sleep(5);
    await firstOk(health, {}, 10_000);
    respawns.push(performance.now() - started);
    await sleep(3000);
  }
  return respawns;
}

/** Inference alone inside workerd: the classifier module in a worker of its own. */
export async function inferenceInWorkerd(): Promise<{
  sentences: number;
  medianMicros: number;
  p90Micros: number;
  meanMicros: number;
  source: string;
}> {
  const { dataPath } = dataPaths();
  const sentences = readDataset(dataPath)
    .examples.slice(0, 10_000)
    .map((e) => e.text);
  const bundle = join(paths.dist, "bench-inference");
  execFileSync(
    join(ROOT, "scripts/wrangler-offline"),
    ["deploy", "--dry-run", "-c", WRANGLER_CONFIGS["bench-inference"], "--outdir", bundle],
    {
      stdio: "ignore",
    },
  );
  const dir = join(paths.state, "bench");
  mkdirSync(dir, { recursive: true });
  const config = workerdConfig({
    worker: "bench-inference",
    bundle: { here: bundle, seenAt: bundle },
    configDir: dir,
    trafficAddress: "127.0.0.1:9298",
    vars: {},
    secrets: {},
    serviceAddresses: {},
  });
  writeFileSync(join(dir, "inference.capnp"), config);
  const child = spawn(workerdBinary, ["serve", join(dir, "inference.capnp")], { stdio: "ignore" });
  try {
    await firstOk("http://127.0.0.1:9298/", { method: "POST", body: "[]" }, 10_000);
    // Once to warm up (JIT), then the measured pass.
    await fetch("http://127.0.0.1:9298/", {
      method: "POST",
      body: JSON.stringify(sentences.slice(0, 2000)),
    });
    const reply = await fetch("http://127.0.0.1:9298/", {
      method: "POST",
      body: JSON.stringify(sentences),
    });
    const { batch, batchMs } = (await reply.json()) as { batch: number; batchMs: number[] };
    const perSentence = batchMs.map((ms) => (ms * 1000) / batch).sort((a, b) => a - b);
    return {
      sentences: sentences.length,
      medianMicros: perSentence[perSentence.length >> 1]!,
      p90Micros: perSentence[Math.floor(perSentence.length * 0.9)]!,
      meanMicros: perSentence.reduce((a, b) => a + b, 0) / perSentence.length,
      source: `workerd's clock over batches of ${batch} (it moves in whole ms): per-sentence time of each batch`,
    };
  } finally {
    child.kill("SIGTERM");
  }
}

/**
 * A signed-in client's latency, one request at a time every 100 ms for `seconds`, alone and then
 * while 20 client addresses each send 10 requests a second with wrong passwords, each a new one
 * (inside their rate limits; issue 9's attack). Node's client, not wrk: the flood needs source
 * addresses of its own.
 */
export async function signedInUnderWrongPasswordFlood(seconds: number) {
  const { basicAuth, credentials, freshClient, percentile, predict } = await import(
    "../test/e2e/client.ts"
  );
  const signedIn = freshClient();
  async function measure(flood: boolean) {
    const latencies: number[] = [];
    const floodStatuses: Record<string, number> = {};
    const attackers = Array.from({ length: 20 }, freshClient);
    const deadline = Date.now() + seconds * 1000;
    const flooding = (async () => {
      const sends: Promise<void>[] = [];
      for (let tick = 0; flood && Date.now() < deadline; tick++) {
        for (const from of attackers) {
          const auth = basicAuth(credentials.user, `wrong-${tick}-${Math.random()}`);
          sends.push(
            predict("let me in", { from, auth }).then((r) => {
              floodStatuses[r.status] = (floodStatuses[r.status] ?? 0) + 1;
            }),
          );
        }
        await sleep(100);
      }
      await Promise.all(sends);
    })();
    while (Date.now() < deadline) {
      const started = performance.now();
      const reply = await predict("I am signed in", { from: signedIn });
      if (reply.status !== 200)
        throw new Error(`the signed-in client got ${reply.status}: ${reply.body}`);
      latencies.push(performance.now() - started);
      await sleep(100);
    }
    await flooding;
    return { requests: latencies.length, p90Ms: percentile(latencies, 90), floodStatuses };
  }
  await predict("sign in", { from: signedIn });
  const alone = await measure(false);
  const flooded = await measure(true);
  return { seconds, alone, flooded, p90Ratio: flooded.p90Ms / alone.p90Ms };
}
