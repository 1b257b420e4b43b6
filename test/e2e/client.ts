/**
 * A client of the running stack for the end-to-end suite: real HTTPS to nginx, verified against
 * our certificate, from any source address in 127.0.0.0/8 (each one a separate client IP).
 */
import { execFile as execFileCallback } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Agent } from "node:http";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { readCredentials, certificate } from "../../scripts/stack/secrets.ts";
import { loadSettings, paths, ROOT } from "../../scripts/stack/settings.ts";
import { nativeTopology, renderAll } from "../../scripts/stack/render.ts";
import { supervisorctl } from "../../scripts/stack/supervisor.ts";

export const settings = loadSettings();

const execFile = promisify(execFileCallback);
/** A command of the stack's script (start, stop, promote, …), as make runs it, with this process's settings. */
export const stack = (command: string) =>
  execFile(process.execPath, ["--import", "tsx", "scripts/stack/stack.ts", command], {
    cwd: ROOT,
    timeout: 120_000,
    encoding: "utf8",
  });
export const credentials = readCredentials();
const ca = readFileSync(certificate.cert);

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = any>(): T;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Source address: the client IP nginx sees. */
  from?: string;
  /** Plain HTTP to this port instead of HTTPS to the public port. */
  httpPort?: number;
  /** A pool of kept-alive connections to send on, as an HTTP client with a pool does. */
  agent?: Agent;
}

export function call(path: string, options: CallOptions = {}): Promise<Reply> {
  const secure = options.httpPort === undefined;
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: "127.0.0.1",
        port: options.httpPort ?? settings.httpsPort,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        localAddress: options.from,
        // A connection per call: each client address is a client of its own, and a kept-alive
        // socket that nginx has just closed fails as "socket hang up" when reused (Node 20's
        // global agent keeps sockets alive). Node then sends Connection: close itself.
        agent: options.agent ?? false,
        ...(secure ? { ca, servername: "localhost" } : {}),
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body),
          });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${path}`)));
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/**
 * A client as users run them: a pool of at most `connections` kept-alive HTTPS connections, which
 * `call` sends on with `agent` (a pool per source address: Node's agent keys them by it).
 */
export const keepAliveAgent = (connections: number) =>
  new HttpsAgent({ keepAlive: true, maxSockets: connections, ca, servername: "localhost" });

export const basicAuth = (user = credentials.user, password = credentials.password) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/**
 * A source address in 127.0.0.0/8 that no test has used yet, in this run or an earlier one (the
 * rate limiter's state outlives a run): a fresh rate-limit budget. Each test file reserves a block
 * of addresses from a counter in .state/; the files run one at a time.
 */
const CLIENT_COUNTER = join(paths.state, "e2e-next-client");
const CLIENT_BLOCK = 5000;
let nextClient = 0;
let blockEnd = 0;
export function freshClient(): string {
  if (nextClient >= blockEnd) {
    nextClient = existsSync(CLIENT_COUNTER) ? Number(readFileSync(CLIENT_COUNTER, "utf8")) : 0;
    blockEnd = nextClient + CLIENT_BLOCK;
    writeFileSync(CLIENT_COUNTER, String(blockEnd));
  }
  const n = nextClient++;
  return `127.${1 + (Math.floor(n / 62_500) % 254)}.${Math.floor(n / 250) % 250}.${2 + (n % 250)}`;
}

export function predict(
  sentence: unknown,
  options: CallOptions & { auth?: string | null } = {},
): Promise<Reply> {
  const auth = options.auth === undefined ? basicAuth() : options.auth;
  return call("/predict", {
    method: "POST",
    from: options.from ?? freshClient(),
    body: options.body ?? JSON.stringify({ sentence }),
    headers: {
      "Content-Type": "application/json",
      ...(auth ? { Authorization: auth } : {}),
      ...options.headers,
    },
  });
}

/** The value of a query that gives one number (0 when it gives none). */
export async function prometheusValue(query: string): Promise<number> {
  const [result] = await prometheusQuery(query);
  return Number(result?.value[1] ?? 0);
}

export async function prometheusQuery(
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const reply = await call(`/api/v1/query?query=${encodeURIComponent(query)}`, {
    httpPort: settings.prometheusPort,
  });
  return reply.json().data.result;
}

/** The p-th percentile (nearest rank) of some measurements. */
export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.ceil((values.length * p) / 100) - 1]!;

/**
 * `rps` requests a second for `seconds`, round-robin over just enough client addresses that none
 * outruns its budget (burst + refill over the run). `during` starts after the first second; the
 * load goes on while it is under way, until a second after it ends, however slow the machine
 * (bounded: at most three times `seconds`), so that what it changed is measured too. With
 * `keepAlive`, each address is a client with a pool of kept-alive connections, as users run
 * them; else each request opens its own (a fault that reloads nginx's front closes kept-alive
 * connections under their clients, which no server can prevent). `addresses` sets how many
 * clients there are, for a stack whose limits allow each that many requests.
 */
export async function steadyLoad(
  rps: number,
  seconds: number,
  during?: () => Promise<void>,
  {
    keepAlive = false,
    addresses,
    headersOf,
  }: {
    keepAlive?: boolean;
    addresses?: number;
    /** Headers of the n-th request (an X-Assignment-Key of its own, say). */
    headersOf?: (n: number) => Record<string, string>;
  } = {},
) {
  const burst = Number(settings.gatewayVars.RATE_LIMIT_BURST);
  const refill = Number(settings.gatewayVars.RATE_LIMIT_RPS);
  const longest = during ? 3 * seconds : seconds;
  const clients = Array.from(
    { length: addresses ?? Math.ceil(((rps * longest) / (burst + refill * longest)) * 1.25) },
    () => ({ from: freshClient(), agent: keepAlive ? keepAliveAgent(4) : undefined }),
  );
  /** Each request that did not get a 200: when it was sent (ms from the start), and what it got. */
  const failed: { sentAtMs: number; reply?: Reply; error?: string }[] = [];
  /** Each request that got a 200: when it was sent, and the variant and model version that answered. */
  const served: { sentAtMs: number; variant: string; modelVersion: string }[] = [];
  const latenciesMs: number[] = [];
  const pending: Promise<void>[] = [];
  let sent = 0;
  const started = Date.now();
  let actionEndedAt = during ? Infinity : 0;
  const action = during
    ? sleep(1000)
        .then(during)
        .finally(() => (actionEndedAt = Date.now()))
    : Promise.resolve();
  const goOn = () =>
    sent < rps * seconds || (Date.now() < actionEndedAt + 1000 && sent < rps * longest);
  while (goOn()) {
    const client = clients[sent % clients.length]!;
    sent++;
    const sentAtMs = Date.now() - started;
    pending.push(
      predict("steady as she goes", { ...client, headers: headersOf?.(sent) }).then(
        (reply: Reply) => {
          latenciesMs.push(Date.now() - started - sentAtMs);
          if (reply.status !== 200) failed.push({ sentAtMs, reply });
          else
            served.push({
              sentAtMs,
              variant: String(reply.headers["x-variant"]),
              modelVersion: String(reply.headers["x-model-version"]),
            });
        },
        (error: Error) => void failed.push({ sentAtMs, error: error.message }),
      ),
    );
    // Paced against the clock, not by a fixed sleep, so that the rate holds whatever each send costs.
    await sleep(Math.max(0, started + (sent * 1000) / rps - Date.now()));
  }
  /** Whether the bound ended the load before a second had passed after `during` ended. */
  const cutShort = Date.now() < actionEndedAt + 1000;
  await Promise.all([...pending, action]);
  for (const { agent } of clients) agent?.destroy();
  const failures = failed.map(
    (f) => f.error ?? `${f.reply!.status} ${f.reply!.body.slice(0, 120)}`,
  );
  return { sent, failures, failed, served, latenciesMs, started, cutShort };
}

/**
 * `npm run consumers -- ARGS` as an operator runs it, with `input` on standard input: its one JSON
 * line parsed (null when it prints none), or its failure.
 */
export async function consumers(args: string[], input?: string): Promise<any> {
  const child = execFile(process.execPath, ["--import", "tsx", "scripts/consumers.ts", ...args], {
    cwd: ROOT,
    timeout: 60_000,
    encoding: "utf8",
  });
  if (input !== undefined) child.child.stdin!.end(input);
  else child.child.stdin!.end();
  const { stdout } = await child;
  const lines = stdout.trim().split("\n").filter(Boolean);
  return lines.length === 0
    ? null
    : lines.length === 1
      ? JSON.parse(lines[0]!)
      : lines.map((l) => JSON.parse(l));
}

/** A consumer name no earlier run used (the registry outlives a run). */
export const freshConsumer = (what: string) =>
  `${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** Polls `attempt` every 200 ms until it returns true, for at most `ms`: how long it took, or undefined. */
export async function within(
  ms: number,
  attempt: () => Promise<boolean>,
): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started <= ms) {
    if (await attempt()) return Date.now() - started;
    await sleep(200);
  }
  return undefined;
}

export const bearer = (key: string) => `Bearer ${key}`;

/**
 * Runs `code` (a flood's client) in a thread of its own, so that reading its answers does not
 * delay the client measured against it: what it posts back when done.
 */
export async function inThread<T>(code: string, workerData: unknown): Promise<T> {
  const worker = new Worker(code, { eval: true, workerData });
  try {
    return await new Promise<T>((resolve, reject) =>
      worker.once("message", resolve).once("error", reject),
    );
  } finally {
    await worker.terminate();
  }
}

/**
 * Restarts the gateway with these vars over the stack's (rendered as start would), until healthy;
 * with `reloadFront`, nginx takes the new config too (its per-address limit follows the gateway's).
 */
export async function restartGatewayWith(
  overrides: Record<string, string>,
  { reloadFront = false } = {},
): Promise<void> {
  renderAll(loadSettings({ ...process.env, ...overrides }), nativeTopology(settings));
  if (reloadFront) supervisorctl("signal", "HUP", "nginx");
  supervisorctl("restart", "gateway");
  for (let i = 0; i < 50; i++) {
    if (
      (await call("/health", { httpPort: settings.gatewayOpsPort }).catch(() => undefined))
        ?.status === 200
    )
      return;
    await sleep(100);
  }
  throw new Error("the gateway did not come back");
}
