/**
 * The local production stack: `start`, `stop`, `status`, as `make start-project`,
 * `make stop-project` and `make status` call them. Every process runs under supervisord, which
 * restarts any that dies; this script only renders configs, starts supervisord, waits for health
 * and reports.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { composeFile } from "./compose.ts";
import {
  certificate,
  ensureCertificate,
  ensureCredentials,
  ensureFeedbackSecret,
  ensureGrafanaPassword,
} from "./secrets.ts";
import {
  ALERT_RECEIVER,
  ALERTS_LOG,
  dockerTopology,
  installAlertReceiver,
  installGrafanaPassword,
  installWatchdog,
  nativeTopology,
  programs,
  renderAll,
  rendered,
  supervisordConfig,
  type RenderOptions,
} from "./render.ts";
import { supervisorctl } from "./supervisor.ts";
import {
  loadSettings,
  MODEL_SELECTION,
  parseEnvFile,
  paths,
  poolSocketOf,
  pooled,
  ROOT,
  stackPorts,
  variantSetting,
  workerProcesses,
  type Settings,
} from "./settings.ts";
import { switchStableModel } from "./rollout.ts";
import { CANDIDATE, STABLE, VARIANTS, type Variant } from "../../workers/manifest.ts";

const READY_TIMEOUT_MS = 30_000;

interface Probe {
  program: string;
  /** What is asked, for the report. */
  target: string;
  healthy(): Promise<boolean>;
}

/** A 200 from the URL, whose body contains `expect` if given. */
function httpProbe(program: string, url: string, expect?: string): Probe {
  return {
    program,
    target: url,
    healthy: async () => {
      const { status, body } = await httpGet(url);
      return status === 200 && (!expect || body.includes(expect));
    },
  };
}

/**
 * Every replica of a variant answers through its nginx pool, not only on its own port: the pool's
 * round robin names each replica (its /health says which it is) within two rounds, unless nginx
 * has left one out (for fail_timeout, after a failed attempt).
 */
function poolProbe(settings: Settings, variant: Variant): Probe {
  const replicas = workerProcesses(settings)
    .filter((p) => p.worker === variant)
    .map((p) => p.name);
  const socketPath = poolSocketOf(variant);
  return {
    program: "nginx",
    target: `every ${variant} replica through ${socketPath}`,
    healthy: async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 2 * replicas.length; i++) {
        const { status, body } = await httpGet("http://localhost/health", { socketPath });
        if (status === 200) seen.add(JSON.parse(body).replica);
      }
      return replicas.every((name) => seen.has(name));
    },
  };
}

/** The workerd processes' own health, each on its ops port: the gateway's says "ok" only when it reaches every variant. */
const workerProbes = (settings: Settings): Probe[] =>
  workerProcesses(settings).map((p) =>
    httpProbe(
      p.name,
      `http://127.0.0.1:${p.opsPort}/health`,
      p.worker === "gateway" ? '"status":"ok"' : undefined,
    ),
  );

function probes(settings: Settings): Probe[] {
  return [
    ...workerProbes(settings),
    httpProbe("nginx", `https://127.0.0.1:${settings.httpsPort}/health`),
    ...VARIANTS.filter((variant) => pooled(settings, variant)).map((variant) =>
      poolProbe(settings, variant),
    ),
    httpProbe("nginx-exporter", `http://127.0.0.1:${settings.exporterPort}/metrics`, "nginx_up 1"),
    httpProbe("prometheus", `http://127.0.0.1:${settings.prometheusPort}/-/ready`),
    httpProbe("alertmanager", `http://127.0.0.1:${settings.alertmanagerPort}/-/ready`),
    // Healthy while the dead man's switch arrives (alert-receiver.ts): the whole alert pipeline works.
    httpProbe(ALERT_RECEIVER, `http://127.0.0.1:${settings.alertReceiverPort}/health`),
    httpProbe(
      "node-exporter",
      `http://127.0.0.1:${settings.nodeExporterPort}/metrics`,
      "node_cpu_seconds_total",
    ),
    // Its program for the SLOs (deployments/mtail) compiled and loaded.
    httpProbe("mtail", `http://127.0.0.1:${settings.mtailPort}/metrics`, "mtail_prog_loads_total"),
  ];
}

/** GET with a short timeout; HTTPS verified against our certificate; over a unix socket if given one. */
export function httpGet(
  url: string,
  options: { timeoutMs?: number; socketPath?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith("https:");
    const tls = secure ? { ca: readFileSync(certificate.cert), servername: "localhost" } : {};
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { ...tls, socketPath: options.socketPath, timeout: options.timeoutMs ?? 2000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const healthy = (probe: Probe) => probe.healthy().catch(() => false);

function supervisordRunning(): boolean {
  if (!existsSync(rendered.supervisordPid)) return false;
  const pid = Number(readFileSync(rendered.supervisordPid, "utf8"));
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The system packages and users start needs: the Makefile's targets are their one list (they
 * install what is missing, as root), so a direct run checks the same.
 */
function checkTools(): void {
  const check = spawnSync(
    "make",
    ["--no-print-directory", "-s", "-C", ROOT, "system-packages", "stack-users"],
    { encoding: "utf8" },
  );
  if (check.status !== 0) throw new Error(`${(check.stdout + check.stderr).trim()}`);
}

/**
 * An ordinary user cannot listen below net.ipv4.ip_unprivileged_port_start (1024 by default):
 * say so before anything starts, rather than let nginx fail with EACCES in its log.
 */
function checkPorts(settings: Settings): void {
  if (process.getuid?.() === 0) return;
  const lowest = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
  const privileged = Object.entries({
    HTTPS_PORT: settings.httpsPort,
    HTTP_PORT: settings.httpPort,
  }).filter(([, port]) => port < lowest);
  if (privileged.length > 0) {
    const moved = privileged.map(([name, port]) => `${name}=${port + 8000}`).join(" ");
    throw new Error(
      `${privileged.map(([name, port]) => `${name} ${port}`).join(" and ")} needs root; as this user, move it: ${moved} make start-project`,
    );
  }
}

function printWelcome(settings: Settings): void {
  const host = ["0.0.0.0", "127.0.0.1"].includes(settings.bindAddr)
    ? "localhost"
    : settings.bindAddr;
  const https = `https://${host}${settings.httpsPort === 443 ? "" : `:${settings.httpsPort}`}`;
  console.log(`
Fortress Edge is up.
  API (HTTPS)   ${https}/predict    docs ${https}/docs    health ${https}/health
  HTTP          http://${host}:${settings.httpPort}/ (redirects to HTTPS)
  Prometheus    http://127.0.0.1:${settings.prometheusPort}/    Alertmanager http://127.0.0.1:${settings.alertmanagerPort}/
  Alerts        ${join(paths.logs, ALERTS_LOG)} (a JSON line each notification)    Dashboard: make dashboard
  Credentials   ${paths.credentials} (API_USER, API_PASSWORD)
  Certificate   ${certificate.cert} (self-signed; pass it to --cacert)
  Consumers     npm run consumers -- add NAME   (an API key: curl -H "Authorization: Bearer fek_…"; README "Consumers")
  Rate limit    ${settings.gatewayVars.RATE_LIMIT_RPS}/s per client IP, burst ${settings.gatewayVars.RATE_LIMIT_BURST}; per consumer ${settings.gatewayVars.CONSUMER_RATE_LIMIT_RPS}/s, burst ${settings.gatewayVars.CONSUMER_RATE_LIMIT_BURST}, ${settings.gatewayVars.CONSUMER_DAILY_QUOTA === "0" ? "no daily quota" : `${settings.gatewayVars.CONSUMER_DAILY_QUOTA} a day`}
  Logs          make logs (files in ${paths.logs})    Status: make status    Stop: make stop-project

Try it:
  source ${paths.credentials}
  curl --cacert ${certificate.cert} -u "$API_USER:$API_PASSWORD" -H 'Content-Type: application/json' \\
       -d '{"sentence": "I love this!"}' ${https}/predict
  curl --cacert ${certificate.cert} -u "$API_USER:$API_PASSWORD" -H 'Content-Type: application/json' \\
       -H 'X-Experiment-Group: debug' -d '{"sentence": "I love this!"}' ${https}/predict
`);
}

/** The probes that still fail at the deadline (none: all healthy). */
async function waitUntilHealthy(list: Probe[], deadline: number): Promise<Probe[]> {
  let failing = list;
  while (Date.now() < deadline) {
    const results = await Promise.all(failing.map(healthy));
    failing = failing.filter((_, i) => !results[i]);
    if (failing.length === 0) return [];
    await sleep(200);
  }
  return failing;
}

async function start(options: { benchmark: boolean }): Promise<void> {
  const settings = loadSettings();
  if (supervisordRunning()) {
    console.log("The stack is already running (make stop-project stops it).");
    printWelcome(settings);
    return;
  }
  checkTools();
  checkPorts(settings);
  const started = performance.now();
  await renderNative(settings, options);
  checkConfigs();
  for (const p of workerProcesses(settings)) rmSync(p.socket, { force: true });
  for (const variant of VARIANTS) rmSync(poolSocketOf(variant), { force: true });
  execFileSync("supervisord", ["-c", rendered.supervisord], { stdio: "inherit" });

  // What waits for the workerd processes is started once they answer; then everything must be healthy.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let failing = await waitUntilHealthy(
    workerProbes(settings).filter((probe) => probe.program !== "gateway"),
    deadline,
  );
  if (failing.length === 0) {
    // One at a time: supervisorctl returns once each is running (startsecs).
    for (const p of programs(settings)
      .filter((p) => p.startsOnceWorkersAnswer)
      .sort((a, b) => a.priority - b.priority))
      supervisorctl("start", p.name);
    failing = await waitUntilHealthy(probes(settings), deadline);
  }
  if (failing.length > 0) {
    console.error(`\nThe stack did not become healthy within ${READY_TIMEOUT_MS / 1000} s:`);
    for (const probe of failing)
      console.error(
        `  ${probe.program}: ${probe.target} failed; log: ${join(paths.logs, `${probe.program}.log`)}`,
      );
    await stop();
    process.exit(1);
  }
  const processCount = new Set(probes(settings).map((probe) => probe.program)).size;
  console.log(
    `All ${processCount} processes healthy, every replica answering through its nginx pool, in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  printWelcome(settings);
}

/** Whether anything accepts connections on the port (on 127.0.0.1: BIND_ADDR 0.0.0.0 covers it too). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Stops supervisord and all it runs, then proves it: no process left, no port still listening. */
async function stop(): Promise<void> {
  const settings = loadSettings();
  if (supervisordRunning()) {
    const pid = Number(readFileSync(rendered.supervisordPid, "utf8"));
    supervisorctl("shutdown");
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && supervisordRunning()) await sleep(100);
    if (supervisordRunning()) throw new Error(`supervisord (pid ${pid}) did not stop within 20 s`);
  } else {
    console.log("The stack was not running.");
  }
  const open = (
    await Promise.all(
      stackPorts(settings).map(async ({ port }) => ((await listening(port)) ? port : undefined)),
    )
  ).filter(Boolean);
  if (open.length > 0) throw new Error(`still listening after stop: port(s) ${open.join(", ")}`);
  // Sockets and PID files mean nothing once everything has stopped; the folder is made anew at start.
  rmSync(paths.run, { recursive: true, force: true });
  console.log("The stack is stopped; none of its ports is listening.");
}

async function status(): Promise<void> {
  const settings = loadSettings();
  if (!supervisordRunning()) {
    console.log("The stack is not running (make start-project starts it).");
    process.exitCode = 3;
    return;
  }
  const states = new Map(
    supervisorctl("status")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [name, state, ...rest] = line.split(/\s+/);
        return [name!, `${state} ${rest.join(" ")}`];
      }),
  );
  const list = probes(settings);
  const results = await Promise.all(list.map(healthy));
  console.log(`${"process".padEnd(16)}${"supervisor".padEnd(40)}health`);
  list.forEach((probe, i) => {
    console.log(
      `${probe.program.padEnd(16)}${(states.get(probe.program) ?? "?").padEnd(40)}${results[i] ? "healthy" : "UNHEALTHY"} (${probe.target})`,
    );
  });
  // Programs with nothing to probe (the watchdog): supervisord's word only.
  for (const [program, state] of states) {
    if (!list.some((probe) => probe.program === program))
      console.log(`${program.padEnd(16)}${state.padEnd(40)}-`);
  }
  if (results.some((ok) => !ok)) process.exitCode = 1;
}

/**
 * The rendered configs, as each program checks its own: nginx's, Prometheus's (its rules too) and
 * Alertmanager's. Its access log is /dev/stdout, which cannot be opened when that is a socket (as
 * Node's child processes have): nginx's own output goes nowhere here, its errors to standard error.
 */
function checkConfigs(): void {
  execFileSync("nginx", ["-t", "-q", "-c", rendered.nginx], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (const [tool, ...args] of [
    ["promtool", "check", "config", rendered.prometheus],
    ["amtool", "check-config", rendered.alertmanager],
  ] as const) {
    const check = spawnSync(tool, args, { encoding: "utf8" });
    if (check.status !== 0)
      throw new Error(`${tool} ${args.join(" ")}:\n${check.stdout}${check.stderr}`);
  }
}

/** The certificate, the credentials and the feedback secret, each made on first use. */
async function ensureSecrets(): Promise<void> {
  ensureCertificate();
  await ensureCredentials();
  ensureFeedbackSecret();
}

/** The native stack's configs, its secrets first: what start writes before it starts anything. */
async function renderNative(settings: Settings, options: RenderOptions = {}): Promise<void> {
  await ensureSecrets();
  const topology = nativeTopology(settings);
  renderAll(settings, topology, options);
  installWatchdog(topology);
  writeFileSync(rendered.supervisord, supervisordConfig(settings, topology));
  // supervisord opens its own log before it sets its umask: made here first, its user's alone.
  appendFileSync(rendered.supervisordLog, "", { mode: 0o600 });
}

/**
 * The configs of docker-compose.yml's containers (its `render` service runs this, as root: each
 * container's files are given to its image's user).
 */
async function renderDocker(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error(
      "render-docker gives each container's files to its image's user: run it as root",
    );
  await ensureSecrets();
  const topology = dockerTopology();
  renderAll(loadSettings(), topology);
  installAlertReceiver(topology);
  installGrafanaPassword(topology, ensureGrafanaPassword());
  console.log(`rendered the docker-compose configs into ${topology.output}`);
}

/** The stable variant takes the candidate's model: `make promote`. */
async function promote(): Promise<void> {
  if (!supervisordRunning()) throw new Error("the stack is not running (make start-project)");
  const settings = loadSettings();
  const [serving, candidate] = [
    settings.variants[STABLE].model,
    settings.variants[CANDIDATE].model,
  ];
  if (serving === candidate)
    throw new Error(`${STABLE} already serves ${CANDIDATE}'s model, ${serving}`);
  // A rollback stays possible whatever the replicas: it is the way back, and losing a few requests
  // on the way is better than staying.
  if (!pooled(settings, STABLE)) {
    throw new Error(
      `${STABLE} runs one process, so restarting it would lose requests: set ${variantSetting(STABLE, "REPLICAS")}=2 or more (its pool sends a restarting replica's requests to the others), or restart with ${variantSetting(STABLE, "MODEL")}=${candidate}`,
    );
  }
  await switchStableModel(candidate, serving);
  console.log(
    `promoted: ${STABLE} serves ${candidate} (was ${serving}; make rollback returns to it)`,
  );
}

/** The stable variant goes back to the model it served before the last promote: `make rollback`. */
async function rollback(): Promise<void> {
  if (!supervisordRunning()) throw new Error("the stack is not running (make start-project)");
  const serving = loadSettings().variants[STABLE].model;
  const before = loadSettings({ ...process.env, [variantSetting(STABLE, "MODEL")]: modelBefore() })
    .variants[STABLE].model;
  if (before === serving) throw new Error(`${STABLE} already serves ${before}`);
  await switchStableModel(before, serving);
  console.log(`rolled back: ${STABLE} serves ${before} (was ${serving})`);
}

function modelBefore(): string {
  const selection = existsSync(MODEL_SELECTION)
    ? parseEnvFile(readFileSync(MODEL_SELECTION, "utf8"))
    : {};
  const before = selection[variantSetting(STABLE, "MODEL_BEFORE")];
  if (!before) throw new Error("nothing to roll back to: no make promote has been made");
  return before;
}

/** docker-compose.yml, anew from the settings (a test checks the committed one is this). */
async function writeCompose(): Promise<void> {
  writeFileSync(join(ROOT, "docker-compose.yml"), composeFile(loadSettings()));
  console.log("wrote docker-compose.yml");
}

const [command, ...flags] = process.argv.slice(2);
// Run by supervisord (rollout-promote), every line of the log gets its time, as every log's does.
if (flags.includes("--timed")) {
  for (const stream of ["log", "error"] as const) {
    const write = console[stream].bind(console);
    console[stream] = (...args: unknown[]) =>
      write(`${new Date().toISOString()} ${args.map(String).join(" ")}`.replaceAll("\n", " | "));
  }
}

const commands: Record<string, () => Promise<void>> = {
  start: () => start({ benchmark: flags.includes("--benchmark") }),
  render: async () => {
    await renderNative(loadSettings());
    console.log(`rendered the native stack's configs into ${paths.state}`);
  },
  // make test: each rendered config as its program reads it, without starting anything.
  // A running stack's files are checked as they are: rendering them anew with this process's
  // settings would leave a stack started with others (make test's limits, --benchmark) configs
  // it does not run.
  "check-configs": async () => {
    if (!supervisordRunning()) await renderNative(loadSettings());
    checkConfigs();
    console.log("nginx, Prometheus and Alertmanager accept their rendered configs");
  },
  "render-docker": renderDocker,
  compose: writeCompose,
  promote,
  rollback,
  stop,
  status,
};
const run = commands[command ?? ""];
if (!run) {
  console.error(
    "usage: tsx scripts/stack/stack.ts start [--benchmark] | stop | status | render | check-configs | render-docker | compose | promote | rollback",
  );
  process.exit(2);
}
run().catch((error: Error) => {
  console.error(`stack ${command}: ${error.message}`);
  process.exit(1);
});
