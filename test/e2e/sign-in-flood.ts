/**
 * A wrong-password flood against the running stack, and what it does to three clients: a new
 * password user, a new key holder (both first seen during the flood) and a client signed in before
 * it. Shared by test/e2e/sign-in-floods.test.ts (the rows) and make bench (the figures).
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { certificate } from "../../scripts/stack/secrets.ts";
import type { Settings } from "../../scripts/stack/settings.ts";
import {
  basicAuth,
  consumers,
  credentials,
  freshClient,
  freshConsumer,
  inThread,
  percentile,
  predict,
} from "./client.ts";

/** How soon a new client's first prediction must come during a flood, and how far a verified client's p90 may rise. */
export const FIRST_PREDICTION_WITHIN_MS = 2000;
export const P90_WITHIN = 3;
/** How long a flood runs before the new clients come. */
const FLOOD_HEAD_START_MS = 5000;
/** Long enough for the consumers added before a flood to reach every gateway isolate. */
const LIVE_WITHIN_MS = 5000;

export interface FloodFigures {
  addresses: number;
  perAddressPerSecond: number;
  /** ms from a new client's first try to its first prediction; undefined if it never came. */
  newPasswordUserMs?: number;
  newKeyHolderMs?: number;
  verifiedBaselineP90: number;
  verifiedDuringP90: number;
  verifiedStatuses: number[];
  /** The flood's answers, by status ("error" for a failed connection). */
  floodAnswers: Record<string, number>;
}

/**
 * `addresses` new addresses, each sending a wrong password (a new one every time, for the stack's
 * user or a name that is no one's, in turn) `perAddressPerSecond` times a second over kept-alive
 * connections, for `ms`: in a thread of its own, so that reading the answers does not delay the
 * clients measured against it. How many answers of each status it got.
 */
async function wrongPasswords(
  settings: Settings,
  addresses: number,
  perAddressPerSecond: number,
  ms: number,
) {
  const code = `
    const { workerData, parentPort } = require("node:worker_threads");
    const https = require("node:https");
    const { port, ca, addresses, user, interval, ms } = workerData;
    const answers = {};
    const count = (status) => (answers[status] = (answers[status] ?? 0) + 1);
    const until = Date.now() + ms;
    let inFlight = 0;
    const send = (agent, localAddress, n) => {
      inFlight++;
      const name = n % 2 === 0 ? user : "nobody-" + n;
      const auth = Buffer.from(name + ":guess-" + n + "-" + Math.random()).toString("base64");
      const req = https.request({ host: "127.0.0.1", port, path: "/predict", method: "POST", agent,
        localAddress, ca, servername: "localhost", timeout: 10000,
        headers: { "Content-Type": "application/json", Authorization: "Basic " + auth } }, (res) => {
        count(res.statusCode);
        res.resume().on("end", () => inFlight--);
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => { count("error"); inFlight--; });
      req.end('{"sentence":"let me in"}');
    };
    for (const [i, from] of addresses.entries()) {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
      let n = 0;
      const tick = () => {
        if (Date.now() > until) return;
        send(agent, from, n++);
        setTimeout(tick, interval);
      };
      setTimeout(tick, (interval * i) / addresses.length);
    }
    const done = () => (Date.now() > until && inFlight === 0 ? parentPort.postMessage(answers) : setTimeout(done, 50));
    setTimeout(done, ms);
  `;
  return inThread<Record<string, number>>(code, {
    port: settings.httpsPort,
    ca: readFileSync(certificate.cert, "utf8"),
    addresses: Array.from({ length: addresses }, freshClient),
    user: credentials.user,
    interval: 1000 / perAddressPerSecond,
    ms,
  });
}

/**
 * Tries until a prediction comes, for at most `ms`, as a client that honours Retry-After does
 * (else every 100 ms): how long it took.
 */
async function firstPrediction(auth: string, ms: number): Promise<number | undefined> {
  const from = freshClient(); // one client, one address
  const started = Date.now();
  while (Date.now() - started < ms) {
    const reply = await predict("my first prediction", { auth, from });
    if (reply.status === 200) return Date.now() - started;
    await sleep(reply.status === 429 ? Number(reply.headers["retry-after"] ?? 1) * 1000 : 100);
  }
  return undefined;
}

/** A signed-in request's time from a fresh address (its own budget never runs out). */
async function verified(): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const { status } = await predict("I am signed in");
  return { status, ms: Date.now() - started };
}

export async function signInFlood(
  settings: Settings,
  addresses: number,
  // Each address at the gateway's own per-address rate: every request reaches sign-in.
  perAddressPerSecond = Number(settings.gatewayVars.RATE_LIMIT_RPS),
  floodMs = 12_000,
): Promise<FloodFigures> {
  const password = `${Math.random().toString(36).slice(2)} of the new user`;
  const passwordUser = freshConsumer("flood-password");
  await consumers(["add", passwordUser, "--password-stdin"], `${password}\n`);
  const { key } = await consumers(["add", freshConsumer("flood-key")]);
  await sleep(LIVE_WITHIN_MS);
  if ((await predict("signing in")).status !== 200)
    throw new Error("the verified client is not served");
  const baselineMs: number[] = [];
  for (let i = 0; i < 20; i++) baselineMs.push((await verified()).ms);

  const floodStarted = Date.now();
  const flood = wrongPasswords(settings, addresses, perAddressPerSecond, floodMs);
  // Long enough for a flood that could spend the shared budget's burst to have spent it.
  await sleep(FLOOD_HEAD_START_MS);
  const [newKeyHolderMs, newPasswordUserMs] = await Promise.all([
    firstPrediction(`Bearer ${key}`, FIRST_PREDICTION_WITHIN_MS + 3000),
    firstPrediction(basicAuth(passwordUser, password), FIRST_PREDICTION_WITHIN_MS + 3000),
  ]);
  const duringMs: number[] = [];
  const verifiedStatuses: number[] = [];
  const ends = floodStarted + floodMs - 1000;
  while (Date.now() < ends) {
    const { status, ms } = await verified();
    verifiedStatuses.push(status);
    duringMs.push(ms);
    await sleep(100);
  }
  return {
    addresses,
    perAddressPerSecond,
    newPasswordUserMs,
    newKeyHolderMs,
    verifiedBaselineP90: percentile(baselineMs, 90),
    verifiedDuringP90: percentile(duringMs, 90),
    verifiedStatuses,
    floodAnswers: await flood,
  };
}
