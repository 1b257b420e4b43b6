/**
 * `make bench`: measures the stack as users run it (load.ts), with the CPU and memory each program
 * spent (accounting.ts), and writes bench/results/<timestamp>.json, .md and .png (report.ts).
 * Every figure is measured in this run; each target that is missed is said so plainly.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { rssMegabytes, rssOfPids, withCpu } from "./accounting.ts";
import { PEER_FORMS, type Peer, type PeerForm, startPeer } from "./peer/peer.ts";
import {
  BENCH_ENV,
  coldStartReplica,
  coldStartStack,
  gatewayRespawnMs,
  inferenceInWorkerd,
  LOAD_SECONDS,
  oursWithApiKey,
  settings,
  shadowAgainstV2Clients,
  signInFloods,
  sideBySide,
  signedInUnderWrongPasswordFlood,
  STACK,
  withNginxTimings,
  wrk,
} from "./load.ts";
import { report } from "./report.ts";
import { ROOT, workerProcesses } from "../scripts/stack/settings.ts";
import { V8_FLAGS } from "../scripts/stack/workerd-config.ts";

/** The programs a request passes through: every workerd process, and nginx. */
const onThePath = [...workerProcesses(settings).map((p) => p.name), "nginx"];

async function measure() {
  console.log(
    `make bench: the rate limit is raised to ${BENCH_ENV.RATE_LIMIT_RPS}/s (burst ${BENCH_ENV.RATE_LIMIT_BURST}) for the benchmark;`,
  );
  console.log(
    "the rate-limit check still runs for every request. Each load point runs",
    LOAD_SECONDS,
    "s.\n",
  );
  const stackColdStartMs = await coldStartStack();
  wrk("/predict", 16); // warm-up: JIT, connections, leases
  const againstPeer = await (async () => {
    const started: Peer[] = [];
    try {
      for (const form of PEER_FORMS) started.push(await startPeer(form));
      const peers = Object.fromEntries(started.map((p) => [p.form, p])) as Record<PeerForm, Peer>;
      for (const peer of started) wrk("/predict", 16, "", peer); // their warm-up
      return {
        model: started[0]!.model,
        c16: sideBySide(peers, 16, 2),
        c1: sideBySide(peers, 1, 1),
        peerRssMegabytesAfterLoad: Object.fromEntries(
          started.map((peer) => [peer.form, rssOfPids(peer.pids())]),
        ) as Record<PeerForm, number>,
      };
    } finally {
      await Promise.all(started.map((peer) => peer.stop()));
    }
  })();
  return {
    date: new Date().toISOString(),
    /** What was measured: the commit (dirty when the tree had changes) and workerd's V8 flags. */
    commit: execFileSync("git", ["describe", "--always", "--dirty"], {
      cwd: ROOT,
      encoding: "utf8",
    }).trim(),
    v8Flags: V8_FLAGS,
    machine: {
      cores: Number(execFileSync("nproc", { encoding: "utf8" }).trim()),
      loadGenerator: "wrk -t2, same machine",
    },
    loadSeconds: LOAD_SECONDS,
    v1: {
      c16: await withNginxTimings(() => withCpu(onThePath, () => wrk("/predict", 16))),
      c64: wrk("/predict", 64),
    },
    /**
     * The v1 path's CPU a request signed in by an API key, next to Basic Auth's cached path, in
     * turns (the password's first run is v1.c16, just before) so that a drift of the machine falls
     * on both alike.
     */
    signIn: await (async () => {
      const key = await oursWithApiKey();
      const apiKey = [];
      const basicAuthCached = [];
      for (let turn = 0; turn < 3; turn++) {
        apiKey.push(withCpu(onThePath, () => wrk("/predict", 16, "", key)));
        if (turn < 2) basicAuthCached.push(withCpu(onThePath, () => wrk("/predict", 16)));
      }
      return { apiKey, basicAuthCached };
    })(),
    v2: {
      c16: withCpu(onThePath, () => wrk("/predict", 16, "debug")),
      c64: wrk("/predict", 64, "debug"),
    },
    unloaded: { c1: wrk("/predict", 1), c4: wrk("/predict", 4) },
    againstPeer,
    ceiling: { c16: wrk("/bench/ceiling", 16) },
    wrongPasswordFlood: await signedInUnderWrongPasswordFlood(LOAD_SECONDS),
    signInFloods: await signInFloods(),
    rssMegabytesAfterLoad: rssMegabytes([...onThePath, "nginx-exporter", "prometheus"]),
    inference: await inferenceInWorkerd(),
    coldStart: {
      stackToFirst200Ms: stackColdStartMs,
      replicaSpawnToFirst200Ms: await coldStartReplica(),
    },
    gatewayRespawnMs: await gatewayRespawnMs(5),
    /** What an inference worker's bundle holds besides the model and ORT's wasm. */
    v1BundleJavaScriptMegabytes: statSync(join(ROOT, "dist/v1/index.js")).size / 1e6,
    /** Last: it restarts the gateway with other settings, and puts it back. */
    shadow: await shadowAgainstV2Clients(),
  };
}

export type BenchResults = Awaited<ReturnType<typeof measure>>;

async function main(): Promise<void> {
  try {
    const { markdown, targets } = await report(await measure());
    console.log(markdown);
    for (const [name, met, measured] of targets)
      if (!met) console.log(`MISSED: ${name} (measured ${measured})`);
  } finally {
    spawnSync("npx", [...STACK, "stop"], { stdio: "inherit" });
  }
}

// Stopped by a signal: the stack goes down too (the peers' processes go on the way out, peer.ts).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    spawnSync("npx", [...STACK, "stop"], { stdio: "inherit" });
    process.exit(130);
  });
}

main().catch((error: Error) => {
  console.error(`make bench: ${error.message}`);
  spawnSync("npx", [...STACK, "stop"], { stdio: "inherit" });
  process.exit(1);
});
