/**
 * Renders every config of the stack from the templates in deployments/: nginx, Prometheus,
 * supervisord and one workerd config per process, for one of two topologies: the native stack on
 * this machine (.state/), or docker-compose.yml's containers (.state/docker/, the checkout mounted
 * at /app). Both use unix sockets for the internal hops (in compose, on the shared mount).
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { localSecrets } from "./secrets.ts";
import {
  paths,
  poolSocketOf,
  pooled,
  readWranglerConfig,
  ROOT,
  stackPaths,
  workerProcesses,
  type Settings,
  type StackPaths,
  type WorkerProcess,
} from "./settings.ts";
import { bindingOf, VARIANTS } from "../../workers/manifest.ts";
import { workerdConfig } from "./workerd-config.ts";
import { PROBLEM_TITLES } from "../../workers/shared/http/problem.ts";
import { MAX_BODY_BYTES } from "../../workers/shared/inference/prediction-contract.ts";
import { PUBLIC_PATHS } from "../../workers/gateway/public-paths.ts";
import { SANE_REQUEST_ID } from "../../workers/shared/http/request-id.ts";

/** nginx's access log (in the logs folder): a line a request, front and pool hops alike. */
export const NGINX_ACCESS_LOG = "nginx-access.log";

/** Replaces ${NAME} placeholders; a placeholder without a value is an error, not an empty string. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`template placeholder \${${name}} has no value`);
    return values[name]!;
  });
}

export interface Topology {
  /** Paths as the processes see them. */
  where: StackPaths;
  /** Where the files are written, on this machine. */
  output: StackPaths;
  /**
   * The user nginx's workers run as, when its master runs as root, and its group, to which the
   * sockets' folder is open. Undefined when the stack runs as an ordinary user: nginx's workers
   * are that user then.
   */
  nginxWorkers: { user: string; gid: number } | undefined;
  bindAddr: string;
  /** Host the processes' internal TCP ports listen on. */
  internalHost: string;
  /** How Prometheus reaches a process ("nginx-exporter" for the exporter). */
  scrapeHost: (program: string) => string;
}

/** The group id of a user's primary group, from the system's user database. */
const primaryGroupOf = (user: string) =>
  Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());

/** Debian's user for web servers' workers (nginx's own default, nobody, owns files of other daemons). */
const NATIVE_NGINX_WORKER_USER = "www-data";

export const nativeTopology = (settings: Settings): Topology => ({
  where: paths,
  output: paths,
  nginxWorkers:
    process.getuid?.() === 0
      ? { user: NATIVE_NGINX_WORKER_USER, gid: primaryGroupOf(NATIVE_NGINX_WORKER_USER) }
      : undefined,
  bindAddr: settings.bindAddr,
  internalHost: "127.0.0.1",
  scrapeHost: () => "127.0.0.1",
});

/** docker-compose.yml: one container per process, service names as host names. */
export const dockerTopology = (): Topology => ({
  where: stackPaths("/app", "/app/.state/docker"),
  output: stackPaths(ROOT, join(paths.state, "docker")),
  // The nginx image's own user (its default config names it; ours must too), by the ids the image gives it.
  nginxWorkers: { user: "nginx", gid: 101 },
  bindAddr: "0.0.0.0",
  internalHost: "0.0.0.0",
  scrapeHost: (program) => program,
});

/** The files a render writes, and the sockets they name, for a state folder. */
function renderedFiles(where: StackPaths) {
  return {
    supervisordLog: join(where.logs, "supervisord.log"),
    nginx: join(where.state, "nginx/nginx.conf"),
    prometheus: join(where.state, "prometheus.yml"),
    supervisord: join(where.state, "supervisord.conf"),
    supervisorSocket: join(where.run, "supervisor.sock"),
    supervisordPid: join(where.run, "supervisord.pid"),
  };
}

/** This checkout's native stack. */
export const rendered = renderedFiles(paths);

/** The workerd binary from the workerd npm package (the same one wrangler and Miniflare use). */
export const workerdBinary: string = createRequire(import.meta.url)("workerd").default;

export interface Program {
  name: string;
  command: string;
  /** What the program creates is its user's alone, or its group's too (workerd's sockets: nginx's workers). */
  umask: string;
  priority: number;
  /** How long after TERM supervisord sends KILL. */
  stopWaitSeconds?: number;
  /**
   * Not started with supervisord but by the stack's start, once every workerd process answers,
   * in the order of their priorities (supervisord's priorities order the starts, not readiness):
   * nginx, whose pools would otherwise meet replicas whose sockets do not exist yet and leave
   * them out for fail_timeout, and what needs nginx at its own start.
   */
  startsOnceWorkersAnswer?: boolean;
  /**
   * The log file (in the logs folder) of each stream, when they are not both <name>.log;
   * "discard" keeps no file. supervisord writes every log file: it caps and rotates it.
   */
  output?: { stdout: string | "discard"; stderr: string };
}

/** Nothing the stack writes is open to other users. */
const PRIVATE_UMASK = "077";
/** workerd's traffic sockets: the runtime folder's group (nginx's workers) may connect to them. */
const GROUP_UMASK = "007";

export function programs(settings: Settings): Program[] {
  // workerd does not remove a stale socket file, and a restarted process could not bind it: each
  // start removes its own first (exec keeps the PID workerd's, for supervisord's signals).
  const workers = workerProcesses(settings).map((p) => ({
    name: p.name,
    command: `/bin/sh -c "rm -f ${p.socket} && exec ${workerdBinary} serve ${join(paths.workerdConfigs, `${p.name}.capnp`)}"`,
    umask: GROUP_UMASK,
    priority: p.worker === "gateway" ? 20 : 10,
    // On TERM workerd stops answering, then waits for its open connections (nginx's idle
    // keep-alive ones) to close, which they do not: measured, every restart took the full 5 s
    // before the KILL. A request in flight needs milliseconds; one second is plenty.
    stopWaitSeconds: 1,
  }));
  return [
    ...workers,
    {
      name: "nginx",
      // -e: even what nginx says before it has read its config goes to standard error.
      command: `/usr/sbin/nginx -e stderr -c ${rendered.nginx} -g "daemon off;"`,
      umask: PRIVATE_UMASK,
      priority: 30,
      startsOnceWorkersAnswer: true,
      // Its access log apart from what it says.
      output: { stdout: NGINX_ACCESS_LOG, stderr: "nginx.log" },
    },
    {
      name: "nginx-exporter",
      command: `/usr/bin/prometheus-nginx-exporter -nginx.scrape-uri=http://127.0.0.1:${settings.stubStatusPort}/stub_status -web.listen-address=127.0.0.1:${settings.exporterPort}`,
      umask: PRIVATE_UMASK,
      priority: 40,
      // It exits at start if nginx's stub_status does not answer yet.
      startsOnceWorkersAnswer: true,
      // Its log is on standard error; on standard output only a version banner without a time
      // (the version is in its nginxexporter_build_info metric).
      output: { stdout: "discard", stderr: "nginx-exporter.log" },
    },
    {
      name: "prometheus",
      command: `/usr/bin/prometheus --config.file=${rendered.prometheus} --storage.tsdb.path=${paths.prometheusData} --storage.tsdb.retention.time=2d --web.listen-address=127.0.0.1:${settings.prometheusPort}`,
      umask: PRIVATE_UMASK,
      priority: 40,
    },
    {
      name: "watchdog",
      command: `${join(ROOT, "node_modules/.bin/tsx")} ${join(ROOT, "scripts/stack/watchdog.ts")} ${rendered.supervisorSocket} ${workerProcesses(
        settings,
      )
        .map((p) => `${p.name}=${p.opsPort}`)
        .join(" ")}`,
      umask: PRIVATE_UMASK,
      priority: 50,
    },
  ];
}

/** supervisord runs the native stack only; in compose, each container is one process. */
export function supervisordConfig(settings: Settings): string {
  /** A log file of supervisord's: capped at 20 MB, two older ones kept, each its user's alone (the umask). */
  const log = (stream: "stdout" | "stderr", file: string) =>
    file === "discard"
      ? `${stream}_logfile=NONE`
      : `${stream}_logfile=${join(paths.logs, file)}
${stream}_logfile_maxbytes=20MB
${stream}_logfile_backups=2`;
  const sections = programs(settings).map(
    (p) => `[program:${p.name}]
command=${p.command}
priority=${p.priority}
autostart=${!p.startsOnceWorkersAnswer}
autorestart=true
startsecs=1
startretries=10
stopsignal=TERM
stopwaitsecs=${p.stopWaitSeconds ?? 5}
stopasgroup=true
killasgroup=true
umask=${p.umask}
${p.output ? `redirect_stderr=false\n${log("stdout", p.output.stdout)}\n${log("stderr", p.output.stderr)}` : `redirect_stderr=true\n${log("stdout", `${p.name}.log`)}`}
`,
  );
  return `; Generated by scripts/stack: every process of the local stack, kept up by supervisord.
[unix_http_server]
file=${rendered.supervisorSocket}
chmod=0700

[supervisord]
umask=${PRIVATE_UMASK}
logfile=${rendered.supervisordLog}
logfile_maxbytes=20MB
logfile_backups=2
pidfile=${rendered.supervisordPid}
childlogdir=${paths.logs}
directory=${ROOT}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${rendered.supervisorSocket}

${sections.join("\n")}`;
}

/** A folder of ours with exactly these modes, even if an earlier run made it otherwise. */
function privateFolder(path: string, mode: number, group?: number): void {
  mkdirSync(path, { recursive: true, mode });
  const stat = lstatSync(path);
  const uid = process.getuid?.() ?? stat.uid;
  // A runtime folder in a shared place could have been made by someone else first: never use it.
  if (!stat.isDirectory() || stat.uid !== uid)
    throw new Error(`${path} is not a folder of this user's (uid ${uid})`);
  if (group !== undefined) chownSync(path, uid, group);
  chmodSync(path, mode);
}

/**
 * The folders of a render, with their modes: the state (configs with secrets, logs, the rate
 * limiter's storage) is the stack's user's alone; the runtime folder (sockets, PID files, nginx's
 * temporary files) is open to nginx's workers' group only, and setgid, so that each socket
 * workerd makes there belongs to that group.
 */
function prepareFolders(out: StackPaths, nginxWorkers: Topology["nginxWorkers"]): void {
  privateFolder(out.state, 0o700);
  for (const dir of [
    out.logs,
    out.workerdConfigs,
    out.durableObjects,
    out.prometheusData,
    join(out.state, "nginx"),
  ])
    privateFolder(dir, 0o700);
  // Every log is its user's alone (logs of an earlier stack may have been made 0644).
  for (const entry of readdirSync(out.logs)) chmodSync(join(out.logs, entry), 0o600);
  // Each Durable Object namespace's folder, as workerd made it (an earlier stack made them 0777).
  for (const entry of readdirSync(out.durableObjects, { withFileTypes: true })) {
    if (entry.isDirectory()) chmodSync(join(out.durableObjects, entry.name), 0o700);
  }
  if (nginxWorkers === undefined) privateFolder(out.run, 0o700);
  else privateFolder(out.run, 0o2750, nginxWorkers.gid);
}

/**
 * How long nginx's pools wait for a replica: well inside the gateway's own upstream timeout, so
 * that a hung replica costs nginx's timeout, which counts as its failure and sends the request on
 * to the next replica, before the gateway gives up on the whole pool.
 */
export const poolReadTimeoutMs = (settings: Settings) =>
  Math.floor(Number(settings.gatewayVars.UPSTREAM_TIMEOUT_MS) * 0.4);

export interface RenderOptions {
  /** make bench's extra nginx location. */
  benchmark?: boolean;
  /** Replicas their nginx pool sends nothing new to (marked `down`), while they restart. */
  drained?: string[];
}

export function renderAll(
  settings: Settings,
  topology: Topology,
  options: RenderOptions = {},
): void {
  const { where, output: out } = topology;
  prepareFolders(out, topology.nginxWorkers);
  const processes = workerProcesses(settings, where);
  const ofWorker = (worker: WorkerProcess["worker"]) =>
    processes.filter((p) => p.worker === worker);
  const [gateway] = ofWorker("gateway");
  const written = renderedFiles(out);
  const addressOf = (p: WorkerProcess | undefined) => `unix:${p!.socket}`;
  const pools = VARIANTS.filter((variant) => pooled(settings, variant));
  // Where each bound worker (by its wrangler `name`) is reached: a variant with replicas through its nginx pool.
  const serviceAddresses = Object.fromEntries(
    VARIANTS.map((variant) => [
      readWranglerConfig(variant).name,
      pooled(settings, variant)
        ? `unix:${poolSocketOf(variant, where)}`
        : addressOf(ofWorker(variant)[0]),
    ]),
  );
  for (const process of processes) {
    const wrangler = readWranglerConfig(process.worker);
    const config = workerdConfig({
      worker: process.worker,
      bundle: { here: join(paths.dist, process.worker), seenAt: join(where.dist, process.worker) },
      configDir: where.workerdConfigs,
      trafficAddress: addressOf(process),
      opsAddress: `${topology.internalHost}:${process.opsPort}`,
      vars:
        process.worker === "gateway"
          ? settings.gatewayVars
          : { ...wrangler.vars, REPLICA: process.name },
      secrets: localSecrets(wrangler.secrets?.required ?? []),
      serviceAddresses,
      durableObjectsDir: where.durableObjects,
    });
    writeFileSync(join(out.workerdConfigs, `${process.name}.capnp`), config, { mode: 0o600 });
  }

  const benchmarkLocations = options.benchmark
    ? `        # make bench only: the ceiling, nginx answering over the same TLS without any upstream.
        location = /bench/ceiling { default_type application/json; return 200 '{"prediction value":"neutral"}'; }`
    : "";
  const nginx = renderTemplate(
    readFileSync(join(ROOT, "deployments/nginx/nginx.conf.template"), "utf8"),
    {
      USER_DIRECTIVE: topology.nginxWorkers
        ? `user ${topology.nginxWorkers.user};`
        : "# No user directive: the stack runs as an ordinary user, and so do nginx's workers.",
      RUN_DIR: where.run,
      CERT_DIR: where.certs,
      BIND_ADDR: topology.bindAddr,
      HTTP_PORT: String(settings.httpPort),
      HTTPS_PORT: String(settings.httpsPort),
      CONNECTIONS_PER_ADDRESS: String(settings.connectionsPerAddress),
      STUB_STATUS_LISTEN: `${topology.internalHost}:${settings.stubStatusPort}`,
      GATEWAY_ADDR: `unix:${gateway!.socket}`,
      PUBLIC_LOCATIONS: PUBLIC_PATHS.map(
        (path) => `        location = ${path} { proxy_pass http://gateway; }`,
      ).join("\n"),
      PUBLIC_PATHS: `${PUBLIC_PATHS.slice(0, -1).join(", ")} and ${PUBLIC_PATHS.at(-1)}`,
      MAX_BODY_KIB: String(MAX_BODY_BYTES / 1024),
      VARIANT_POOLS: pools
        .map((variant) =>
          renderTemplate(
            readFileSync(join(ROOT, "deployments/nginx/variant-pool.conf.template"), "utf8"),
            {
              VARIANT: variant,
              BINDING: bindingOf(variant),
              POOL_LISTEN: `unix:${poolSocketOf(variant, where)}`,
              POOL_READ_TIMEOUT_MS: String(poolReadTimeoutMs(settings)),
              POOL_SERVERS: ofWorker(variant)
                .map(
                  (p) =>
                    `        server unix:${p.socket} max_fails=1 fail_timeout=5s${options.drained?.includes(p.name) ? " down" : ""};`,
                )
                .join("\n"),
            },
          ),
        )
        .join("\n"),
      BENCHMARK_LOCATIONS: benchmarkLocations,
      SANE_REQUEST_ID: SANE_REQUEST_ID.source,
      PROBLEM_TITLES: Object.entries(PROBLEM_TITLES)
        .map(([status, title]) => `        ${status} "${title}";`)
        .join("\n"),
    },
  );
  writeFileSync(written.nginx, nginx);

  // One job per worker (the gateway, each variant), a target per process; and nginx's exporter.
  const job = (name: string, targets: string[]) =>
    `  - job_name: ${name}\n    static_configs:\n      - targets: ${JSON.stringify(targets)}`;
  const prometheus = renderTemplate(
    readFileSync(join(ROOT, "deployments/prometheus/prometheus.yml.template"), "utf8"),
    {
      RULES_FILE: join(where.root, "deployments/prometheus/rules.yml"),
      ROLLOUT_RULES_FILE: join(where.root, "deployments/prometheus/rollout-rules.yml"),
      SCRAPE_JOBS: [
        job("nginx", [`${topology.scrapeHost("nginx-exporter")}:${settings.exporterPort}`]),
        ...(["gateway", ...VARIANTS] as const).map((worker) =>
          job(
            worker,
            ofWorker(worker).map((p) => `${topology.scrapeHost(p.name)}:${p.opsPort}`),
          ),
        ),
      ].join("\n"),
    },
  );
  writeFileSync(written.prometheus, prometheus);
}
