/**
 * Renders every config of the stack from the templates in deployments/: nginx, Prometheus,
 * supervisord and one workerd config per process, for one of two topologies: the native stack on
 * this machine (.state/), or docker-compose.yml's containers (.state/docker/, the checkout mounted
 * at /app). Both use unix sockets for the internal hops (in compose, on the shared mount).
 */
import { CONTROLLER, PROMOTE_PROGRAM } from "../rollout/controller.ts";
import { mtailProgram } from "../slo/mtail-program.ts";
import { retentionFor } from "../slo/objectives.ts";
import { sloRules } from "../slo/slo-rules.ts";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  fchmodSync,
  fchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { buildSync } from "esbuild";
import { dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";
import { IMAGE_USERS } from "./images.ts";
import { localSecrets } from "./secrets.ts";
import {
  paths,
  poolSocketOf,
  pooled,
  readWranglerConfig,
  ROOT,
  stackPaths,
  stableProcesses,
  workerProcesses,
  type Settings,
  type StackPaths,
  type WorkerProcess,
} from "./settings.ts";
import { bindingOf, VARIANTS } from "../../workers/manifest.ts";
import { workerdConfig } from "./workerd-config.ts";
import { PROBLEM_TITLES } from "../../workers/shared/http/problem.ts";
import { MAX_BODY_BYTES } from "../../workers/shared/inference/prediction-contract.ts";
import { PUBLIC_PATHS, PUBLIC_ROUTES, TAKES_GZIP } from "../../workers/gateway/public-paths.ts";
import { SANE_REQUEST_ID } from "../../workers/shared/http/request-id.ts";

/** The rule files of deployments/prometheus that Prometheus loads as they are. */
const PROMETHEUS_RULES = ["rules.yml", "rollout-rules.yml", "host-rules.yml"];
/** The SLOs' rules, made from the settings' objectives (the committed one is the defaults'). */
const SLO_RULES = "slo-rules.yml";
/** mtail's program, in its programs folder. */
const MTAIL_PROGRAM = "predict.mtail";

/** nginx's access log (in the logs folder): a line a request, front and pool hops alike. */
export const NGINX_ACCESS_LOG = "nginx-access.log";
/** The alert receiver's log (in the logs folder): a JSON line each notification from Alertmanager. */
export const ALERTS_LOG = "alerts.jsonl";
export const ALERT_RECEIVER = "alert-receiver";

/** Replaces ${NAME} placeholders; a placeholder without a value is an error, not an empty string. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`template placeholder \${${name}} has no value`);
    return values[name]!;
  });
}

/** A user and group, by their ids. */
export interface Ids {
  uid: number;
  gid: number;
}

/** A user of the system, by name and ids, with its primary group's name. */
export interface SystemUser extends Ids {
  name: string;
  group: string;
}

export interface Topology {
  /** Paths as the processes see them. */
  where: StackPaths;
  /** Where the files are written, on this machine. */
  output: StackPaths;
  /**
   * The native stack's own user, when it is not the one rendering (the stack started as root):
   * supervisord runs the processes as it, and it enters the home and runtime folders by its
   * group. Undefined otherwise, and in compose.
   */
  stackUser: SystemUser | undefined;
  /**
   * Who the processes run as, when not the renderer: what each reads and writes in the home is
   * made theirs. Natively (started as root) the stack's user; in compose, each image's own user.
   */
  owners: { workers: Ids; prometheus: Ids } | undefined;
  /**
   * The user nginx's workers run as, when its master runs as root, and the group, to which the
   * runtime folder is open (the stack's own). Undefined when the stack runs as an ordinary user:
   * nginx's workers are that user then.
   */
  nginxWorkers: { user: string; group: string; gid: number } | undefined;
  bindAddr: string;
  /** Host the processes' internal TCP ports listen on. */
  internalHost: string;
  /** How Prometheus reaches a process ("nginx-exporter" for the exporter). */
  scrapeHost: (program: string) => string;
}

/** A user from the system's user database; make setup (as root) creates the stack's. */
function systemUser(name: string): SystemUser {
  const id = (flag: string) =>
    execFileSync("id", [flag, name], { encoding: "utf8", stdio: "pipe" }).trim();
  try {
    return { name, uid: Number(id("-u")), gid: Number(id("-g")), group: id("-gn") };
  } catch {
    throw new Error(`there is no user ${name}: run make setup as root, which creates it`);
  }
}

/**
 * Started as root, the stack's processes run as its own user, and nginx's workers as theirs in
 * the stack's group (settings.env); nginx's master and supervisord stay root. Otherwise all of it
 * runs as the user who started it.
 */
export function nativeTopology(settings: Settings): Topology {
  const asRoot = process.getuid?.() === 0;
  const stackUser = asRoot ? systemUser(settings.stackUser) : undefined;
  return {
    where: paths,
    output: paths,
    stackUser,
    owners: stackUser && { workers: stackUser, prometheus: stackUser },
    nginxWorkers: stackUser && {
      user: systemUser(settings.nginxWorkerUser).name,
      group: stackUser.group,
      gid: stackUser.gid,
    },
    bindAddr: settings.bindAddr,
    internalHost: "127.0.0.1",
    scrapeHost: () => "127.0.0.1",
  };
}

/**
 * docker-compose.yml: one container per process, service names as host names, each run as its
 * image's own user (compose.ts), which the files it reads are given to.
 */
export const dockerTopology = (): Topology => ({
  where: stackPaths("/app", "/app/.state/docker"),
  output: stackPaths(ROOT, join(paths.state, "docker")),
  stackUser: undefined,
  owners: { workers: IMAGE_USERS.workerd, prometheus: IMAGE_USERS.prometheus },
  // The nginx image's own user (its default config names it; ours must too).
  nginxWorkers: {
    ...IMAGE_USERS.nginx,
    user: IMAGE_USERS.nginx.name,
    group: IMAGE_USERS.nginx.name,
  },
  bindAddr: "0.0.0.0",
  internalHost: "0.0.0.0",
  scrapeHost: (program) => program,
});

/** The files a render writes, and the sockets they name, for a state folder. */
export function renderedFiles(where: StackPaths) {
  return {
    supervisordLog: join(where.logs, "supervisord.log"),
    nginx: join(where.state, "nginx/nginx.conf"),
    prometheusConfig: join(where.home, "prometheus-config"),
    prometheus: join(where.home, "prometheus-config/prometheus.yml"),
    alertmanagerConfig: join(where.home, "alertmanager-config"),
    alertmanager: join(where.home, "alertmanager-config/alertmanager.yml"),
    alertmanagerData: join(where.home, "alertmanager"),
    mtailPrograms: join(where.home, "mtail-programs"),
    /**
     * nginx's access log, in a folder of the home that the stack's group reads (mtail tails it
     * for the SLOs): supervisord writes, caps and rotates it; the logs folder links to it.
     */
    nginxLogs: join(where.home, "nginx-logs"),
    nginxAccessLog: join(where.home, "nginx-logs", NGINX_ACCESS_LOG),
    workerd: join(where.programs, "workerd"),
    watchdog: join(where.programs, "watchdog.mjs"),
    rolloutController: join(where.programs, "rollout-controller.mjs"),
    /** In a folder of its own: compose's receiver mounts it, and no workerd container sees it. */
    alertReceiverProgram: join(where.home, "alert-receiver"),
    alertReceiver: join(where.home, "alert-receiver/alert-receiver.mjs"),
    supervisord: join(where.state, "supervisord.conf"),
    supervisorSocket: join(where.run, "supervisor.sock"),
    supervisordPid: join(where.run, "supervisord.pid"),
  };
}

/** This checkout's native stack. */
export const rendered = renderedFiles(paths);

/**
 * A workerd process's config, in a folder of its own: a container mounts its own folder and sees
 * no other process's secrets.
 */
export const workerdConfigOf = (where: StackPaths, process: string) =>
  join(where.workerdConfigs, process, "workerd.capnp");

/** The workerd binary from the workerd npm package (the same one wrangler and Miniflare use). */
export const workerdBinary: string = createRequire(import.meta.url)("workerd").default;

export interface Program {
  name: string;
  command: string;
  /** What the program creates is its user's alone, or its group's too (workerd's sockets: nginx's workers). */
  umask: string;
  /** nginx's master binds the public ports, then runs its workers as their own user. */
  needsRoot?: true;
  priority: number;
  /** How long after TERM supervisord sends KILL. */
  stopWaitSeconds?: number;
  /** Run on demand (over supervisord's RPC) and left to exit: never started, never restarted. */
  onDemand?: true;
  /** Where it runs: the stack's home unless it says. */
  directory?: string;
  /**
   * Not started with supervisord but by the stack's start, once every workerd process answers,
   * in the order of their priorities (supervisord's priorities order the starts, not readiness):
   * nginx, whose pools would otherwise meet replicas whose sockets do not exist yet and leave
   * them out for fail_timeout, and what needs nginx at its own start.
   */
  startsOnceWorkersAnswer?: boolean;
  /**
   * The log file (in the logs folder, or a path) of each stream, when they are not both <name>.log;
   * "discard" keeps no file. supervisord writes every log file: it caps and rotates it.
   */
  output?: { stdout: string | "discard"; stderr: string };
}

/** Nothing the stack writes is open to other users. */
const PRIVATE_UMASK = "077";
/** workerd's traffic sockets: their folder's group (nginx's workers) may connect to them. */
const GROUP_UMASK = "007";

export function programs(settings: Settings): Program[] {
  // workerd does not remove a stale socket file, and a restarted process could not bind it: each
  // start removes its own first (exec keeps the PID workerd's, for supervisord's signals).
  const workers = workerProcesses(settings).map((p) => ({
    name: p.name,
    command: `/bin/sh -c "rm -f ${[p.socket, p.adminSocket].filter(Boolean).join(" ")} && exec ${rendered.workerd} serve ${workerdConfigOf(paths, p.name)}"`,
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
      needsRoot: true,
      priority: 30,
      startsOnceWorkersAnswer: true,
      // Its access log apart from what it says.
      output: { stdout: rendered.nginxAccessLog, stderr: "nginx.log" },
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
      command: `/usr/bin/prometheus --config.file=${rendered.prometheus} --storage.tsdb.path=${paths.prometheusData} --storage.tsdb.retention.time=${retentionFor(settings.slo)} --web.listen-address=127.0.0.1:${settings.prometheusPort}`,
      umask: PRIVATE_UMASK,
      priority: 40,
    },
    {
      name: "alertmanager",
      // No cluster: one Alertmanager, which would otherwise listen for peers on every address.
      command: `/usr/bin/prometheus-alertmanager --config.file=${rendered.alertmanager} --storage.path=${rendered.alertmanagerData} --web.listen-address=127.0.0.1:${settings.alertmanagerPort} --cluster.listen-address=`,
      umask: PRIVATE_UMASK,
      priority: 35,
    },
    {
      name: ALERT_RECEIVER,
      command: `${process.execPath} ${rendered.alertReceiver} ${settings.alertReceiverPort}`,
      umask: PRIVATE_UMASK,
      priority: 35,
      // Each notification is a JSON line on its standard output.
      output: { stdout: ALERTS_LOG, stderr: `${ALERT_RECEIVER}.log` },
    },
    {
      name: "node-exporter",
      command: `/usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:${settings.nodeExporterPort}`,
      umask: PRIVATE_UMASK,
      priority: 40,
    },
    {
      name: "mtail",
      // It follows the file through supervisord's rotations (a rename, then a new file).
      command: `/usr/bin/mtail --progs ${rendered.mtailPrograms} --logs ${rendered.nginxAccessLog} --address 127.0.0.1 --port ${settings.mtailPort} --logtostderr`,
      umask: PRIVATE_UMASK,
      priority: 40,
    },
    {
      name: "watchdog",
      command: `${process.execPath} ${rendered.watchdog} ${rendered.supervisorSocket} ${workerProcesses(
        settings,
      )
        .map((p) => `${p.name}=${p.opsPort}`)
        .join(" ")}`,
      umask: PRIVATE_UMASK,
      priority: 50,
    },
    {
      name: CONTROLLER,
      command: `${process.execPath} ${rendered.rolloutController} ${workerProcesses(settings).find((p) => p.adminSocket)!.adminSocket} ${rendered.supervisorSocket} ${settings.prometheusPort} ${stableProcesses(
        settings,
      )
        .map((p) => p.opsPort)
        .join(",")}`,
      umask: PRIVATE_UMASK,
      priority: 50,
    },
    {
      // make promote, for the controller at the top of a rollout: root's, as make promote is (it
      // builds v1's bundle from the checkout). The stack's user may already start and stop any
      // program through supervisord's socket; this one's command is fixed here.
      name: PROMOTE_PROGRAM,
      command: `${process.execPath} --import tsx ${join(ROOT, "scripts/stack/stack.ts")} promote --timed`,
      umask: PRIVATE_UMASK,
      needsRoot: true,
      priority: 60,
      onDemand: true,
      directory: ROOT,
    },
  ];
}

/** supervisord runs the native stack only; in compose, each container is one process. */
export function supervisordConfig(settings: Settings, topology: Topology): string {
  const { stackUser } = topology;
  // Everything but nginx's master runs as the stack's user, started in its home (supervisord
  // changes to the program's folder after it has changed user).
  const runAs = (p: Program) =>
    stackUser && !p.needsRoot
      ? `user=${stackUser.name}\nenvironment=HOME="${paths.home}",USER="${stackUser.name}",LOGNAME="${stackUser.name}"\n`
      : "";
  /** A log file of supervisord's: capped at 20 MB, two older ones kept, each its user's alone (the umask). */
  const log = (stream: "stdout" | "stderr", file: string) =>
    file === "discard"
      ? `${stream}_logfile=NONE`
      : `${stream}_logfile=${resolve(paths.logs, file)}
${stream}_logfile_maxbytes=20MB
${stream}_logfile_backups=2`;
  const sections = programs(settings).map(
    (p) => `[program:${p.name}]
command=${p.command}
priority=${p.priority}
autostart=${!p.startsOnceWorkersAnswer && !p.onDemand}
autorestart=${!p.onDemand}
startsecs=${p.onDemand ? 0 : 1}
startretries=10
stopsignal=TERM
stopwaitsecs=${p.stopWaitSeconds ?? 5}
stopasgroup=true
killasgroup=true
umask=${p.umask}
directory=${p.directory ?? paths.home}
${runAs(p)}${p.output ? `redirect_stderr=false\n${log("stdout", p.output.stdout)}\n${log("stderr", p.output.stderr)}` : `redirect_stderr=true\n${log("stdout", `${p.name}.log`)}`}
`,
  );
  return `; Generated by scripts/stack: every process of the local stack, kept up by supervisord.
[unix_http_server]
file=${rendered.supervisorSocket}
chmod=0700
${stackUser ? `; The watchdog (the stack's user) wakes supervisord through it.\nchown=${stackUser.name}:${stackUser.group}\n` : ""}
[supervisord]
; The log files it makes are its own and its group's: the logs folder is root's alone, and nginx's
; access log's folder gives its files the stack's group (setgid), whose mtail reads it.
umask=027
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

/**
 * A folder with exactly this mode, its owner's alone to write: the renderer's, or `owner`'s (the
 * stack's user). A folder in a shared place that someone else made first is never used.
 */
function privateFolder(
  path: string,
  mode: number,
  owner: { uid: number; gid?: number } = { uid: process.getuid?.() ?? 0 },
): void {
  mkdirSync(path, { recursive: true, mode });
  const stat = lstatSync(path);
  const renderer = process.getuid?.() ?? stat.uid;
  if (!stat.isDirectory() || (stat.uid !== renderer && stat.uid !== owner.uid))
    throw new Error(
      `${path} is not a folder of this user's (uid ${renderer}) or of uid ${owner.uid}`,
    );
  chownSync(path, owner.uid, owner.gid ?? stat.gid);
  chmodSync(path, mode);
}

/**
 * The folders of a render, with their modes. The state (configs with secrets, logs) is the
 * renderer's alone. In the home, what the processes run (workerd, the watchdog, the bundles) and
 * Prometheus's config (no secret) are the renderer's, so that the processes cannot change them;
 * each workerd process's config folder and the storage are their owners' alone. The runtime
 * folder (PID files, supervisord's and nginx's pools' sockets, nginx's temporary files) is the
 * renderer's, open to the stack's group; workerd's sockets are in a folder of the workers' own in
 * it, open to nginx's workers' group, setgid so that each socket workerd makes belongs to it.
 * The renderer (root) never writes into a folder another user can write, nor follows a link there.
 */
function prepareFolders(topology: Topology, processes: WorkerProcess[]): void {
  const { output: out } = topology;
  privateFolder(out.state, 0o700);
  for (const dir of [out.logs, join(out.state, "nginx")]) privateFolder(dir, 0o700);
  // Every log is its user's alone (logs of an earlier stack may have been made 0644).
  for (const entry of readdirSync(out.logs, { withFileTypes: true }))
    if (!entry.isSymbolicLink()) chmodSync(join(out.logs, entry.name), 0o600);
  // The home's own first: the staging folder below is in it.
  prepareHome(topology, processes);
  // nginx's access log where `make logs` follows the others (natively: compose's is docker's).
  const accessLog = join(out.logs, NGINX_ACCESS_LOG);
  if (
    topology.where === paths &&
    !lstatSync(accessLog, { throwIfNoEntry: false })?.isSymbolicLink()
  ) {
    rmSync(accessLog, { force: true });
    symlinkSync(renderedFiles(out).nginxAccessLog, accessLog);
  }
  privateFolder(stagingOf(out), 0o700);
}

/** The home's folders and the runtime folder (prepareFolders). */
function prepareHome(topology: Topology, processes: WorkerProcess[]): void {
  const { output: out, stackUser, owners, nginxWorkers } = topology;
  const renderer = { uid: process.getuid?.() ?? 0 };
  if (!owners) {
    for (const dir of [
      out.home,
      out.bundles,
      out.programs,
      out.workerdConfigs,
      out.durableObjects,
      out.prometheusData,
      renderedFiles(out).prometheusConfig,
      renderedFiles(out).alertmanagerConfig,
      renderedFiles(out).alertmanagerData,
      renderedFiles(out).mtailPrograms,
      renderedFiles(out).alertReceiverProgram,
      renderedFiles(out).nginxLogs,
      ...processes.map((p) => dirname(workerdConfigOf(out, p.name))),
      out.run,
      out.workerSockets,
      out.adminSockets,
    ])
      privateFolder(dir, 0o700);
    return;
  }
  // Natively the stack's user enters the home and the runtime folder by its group; a container
  // mounts the folders it needs, whatever their parents.
  const entered = stackUser ? { uid: renderer.uid, gid: stackUser.gid } : renderer;
  const enteredMode = stackUser ? 0o710 : 0o755;
  for (const dir of [out.home, out.workerdConfigs]) privateFolder(dir, enteredMode, entered);
  const files = renderedFiles(out);
  for (const dir of [
    out.bundles,
    out.programs,
    files.prometheusConfig,
    files.alertmanagerConfig,
    files.mtailPrograms,
    files.alertReceiverProgram,
  ])
    privateFolder(dir, 0o755);
  for (const p of processes)
    privateFolder(dirname(workerdConfigOf(out, p.name)), 0o700, owners.workers);
  privateFolder(out.durableObjects, 0o700, owners.workers);
  // In compose, Prometheus keeps its data in a volume of its own.
  if (stackUser) {
    privateFolder(out.prometheusData, 0o700, owners.prometheus);
    privateFolder(files.alertmanagerData, 0o700, owners.prometheus);
    privateFolder(files.nginxLogs, 0o2750, entered);
  }
  privateFolder(out.run, stackUser ? 0o750 : 0o755, entered);
  privateFolder(out.workerSockets, 0o2750, { uid: owners.workers.uid, gid: nginxWorkers!.gid });
  privateFolder(out.adminSockets, 0o700, owners.workers);
}

/** Where the renderer makes each file before it renames it into place (prepareFolders makes it). */
const stagingOf = (out: StackPaths) => join(out.home, ".staging");

/**
 * A file written whole, then put in place with its owner and mode from the start: made in the
 * home's staging folder (the renderer's alone, on the same file system) and renamed, which
 * replaces whatever is at `path` (a link included) without following it.
 */
function writeInPlace(out: StackPaths, path: string, content: string, mode: number, owner?: Ids) {
  const temporary = join(stagingOf(out), `${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, content);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** A copy of a file that keeps its mode and time, made only when the one there differs. */
function copyIfChanged(from: string, to: string): void {
  const source = statSync(from);
  if (existsSync(to)) {
    const copy = statSync(to);
    if (copy.size === source.size && copy.mtimeMs === source.mtimeMs) return;
  }
  copyFileSync(from, `${to}.next`);
  // Its mode whatever the renderer's umask: the processes' users must read (and run) it.
  chmodSync(`${to}.next`, source.mode & 0o111 ? 0o755 : 0o644);
  utimesSync(`${to}.next`, source.atime, source.mtime);
  renameSync(`${to}.next`, to);
}

/**
 * The workerd binary, copied into the home: its owners cannot reach npm's inside the checkout,
 * and a container runs the one its render installed for its architecture.
 */
function installWorkerd(topology: Topology): void {
  copyIfChanged(workerdBinary, renderedFiles(topology.output).workerd);
}

/**
 * The native stack's watchdog, rollout controller and alert receiver, each bundled into one file
 * in its home, for the same reason; run by this Node, which the stack's user must be able to run (not one under
 * root's home, say).
 */
export function installWatchdog(topology: Topology): void {
  const { stackUser } = topology;
  if (stackUser) {
    const tried = spawnSync(
      "setpriv",
      [
        `--reuid=${stackUser.uid}`,
        `--regid=${stackUser.gid}`,
        "--clear-groups",
        process.execPath,
        "-e",
        "",
      ],
      { encoding: "utf8" },
    );
    if (tried.status !== 0)
      throw new Error(
        `the watchdog runs as ${stackUser.name} with ${process.execPath}, which ${stackUser.name} cannot run (${tried.stderr.trim() || tried.error}): install Node where every user can run it, e.g. /usr/bin/node`,
      );
  }
  bundleProgram("scripts/stack/watchdog.ts", rendered.watchdog);
  bundleProgram("scripts/rollout/controller.ts", rendered.rolloutController);
  installAlertReceiver(topology);
}

/** The alert receiver, bundled into the home's programs (in compose, a node container runs it). */
export const installAlertReceiver = (topology: Topology) =>
  bundleProgram("scripts/stack/alert-receiver.ts", renderedFiles(topology.output).alertReceiver);

/** One of the stack's Node programs as one file, which imports nothing from the checkout. */
function bundleProgram(entry: string, outfile: string): void {
  buildSync({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    // CommonJS dependencies (yaml) require Node's modules, which an ES module must create.
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
  });
  chmodSync(outfile, 0o644);
}

/** Where compose's Grafana finds its admin password: a folder that only its image's user reads. */
export const grafanaSecretsOf = (out: StackPaths) => join(out.state, "grafana");

/** A copy of Grafana's admin password (.secrets), given to the Grafana image's user. */
export function installGrafanaPassword(topology: Topology, password: string): void {
  const folder = grafanaSecretsOf(topology.output);
  privateFolder(folder, 0o700, IMAGE_USERS.grafana);
  const copy = join(folder, "admin-password");
  writeInPlace(topology.output, copy, readFileSync(password, "utf8"), 0o400, IMAGE_USERS.grafana);
}

/**
 * Each worker's bundle (dist/<worker>), copied where its processes read it, readable whatever the
 * renderer's umask, and replaced whole: the old copy is moved aside before the new one takes its
 * name, so that a process starting meanwhile finds one or the other.
 */
function installBundles(topology: Topology, workers: string[]): void {
  for (const worker of workers) {
    const copy = join(topology.output.bundles, worker);
    for (const aside of [`${copy}.next`, `${copy}.old`])
      rmSync(aside, { recursive: true, force: true });
    cpSync(join(paths.dist, worker), `${copy}.next`, { recursive: true });
    chmodSync(`${copy}.next`, 0o755);
    for (const entry of readdirSync(`${copy}.next`, { withFileTypes: true, recursive: true }))
      chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
    if (existsSync(copy)) renameSync(copy, `${copy}.old`);
    renameSync(`${copy}.next`, copy);
    rmSync(`${copy}.old`, { recursive: true, force: true });
  }
}

/**
 * How long nginx's pools wait for a replica: well inside the gateway's own upstream timeout, so
 * that a hung replica costs nginx's timeout, which counts as its failure and sends the request on
 * to the next replica, before the gateway gives up on the whole pool.
 */
export const poolReadTimeoutMs = (settings: Settings) =>
  Math.floor(Number(settings.gatewayVars.UPSTREAM_TIMEOUT_MS) * 0.4);

/**
 * nginx's per-address limit on the gateway's rate-limited routes is this many times the gateway's
 * own rate and burst: a client that sends a few times its limit (20 requests at once against a
 * burst of 5) still gets the gateway's 429 with its RateLimit headers; only a flood far past it
 * is stopped at nginx, before it costs the gateway's isolate anything.
 */
export const NGINX_API_LIMIT_FACTOR = 4;

/** nginx's per-address limit on /predict and /feedback, as requests a minute, rounded up (nginx takes whole numbers, and a gateway's rate may be a fraction a second). */
export function apiLimit(settings: Settings): {
  rate: string;
  burst: number;
  retryAfterSeconds: number;
} {
  const { RATE_LIMIT_RPS, RATE_LIMIT_BURST } = settings.gatewayVars;
  const perMinute = Math.ceil(Number(RATE_LIMIT_RPS) * 60 * NGINX_API_LIMIT_FACTOR);
  return {
    rate: `${perMinute}r/m`,
    burst: NGINX_API_LIMIT_FACTOR * Number(RATE_LIMIT_BURST),
    // When the zone has a request for the address again: one comes every 60 / perMinute s.
    retryAfterSeconds: Math.ceil(60 / perMinute),
  };
}

/** The public pages' per-address limit, as each of their locations has it. */
const publicLimit = (settings: Settings) => [
  `limit_req zone=public burst=${settings.publicBurstPerAddress} nodelay;`,
  // When the zone has a request for the address again (it refills by requests a second).
  `set $limit_retry_after ${Math.ceil(1 / settings.publicRatePerAddress)};`,
];

/** What nginx's public server adds to every answer, at `indent` spaces. */
const frontHeaders = (indent: number) =>
  ['add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;']
    .map((line) => `${" ".repeat(indent)}${line}`)
    .join("\n");

/** One nginx location a public path, by its kind (workers/gateway/public-paths.ts). */
function publicLocations(settings: Settings): string {
  const api = apiLimit(settings);
  const limited = [
    `limit_req zone=api burst=${api.burst} nodelay;`,
    `set $limit_retry_after ${api.retryAfterSeconds};`,
  ];
  const directives = {
    limited: [...limited, "proxy_pass http://gateway;"],
    // A fresh connection (no kept-alive one that the gateway may close under the request), and
    // no second send once the request has gone: a resent feedback would be a second feedback.
    once: [...limited, "proxy_next_upstream error;", "proxy_pass http://gateway_once;"],
    open: [...publicLimit(settings), "proxy_pass http://gateway;"],
    // A minute at most, whatever the gateway's Cache-Control says, so a new deployment shows soon;
    // one request at a time fills it, and a stale copy stands in while the gateway restarts.
    static: [
      ...publicLimit(settings),
      "proxy_cache static;",
      "proxy_cache_key $uri$takes_gzip;",
      "proxy_ignore_headers Cache-Control Expires Vary;",
      "proxy_cache_valid 200 1m;",
      "proxy_cache_lock on;",
      "proxy_cache_use_stale error timeout updating http_502 http_503 http_504;",
      "proxy_cache_background_update on;",
      // A cached answer carries the request id of the request that filled the cache: each gets its own.
      "proxy_hide_header X-Request-Id;",
      "add_header X-Request-Id $forwarded_request_id always;",
      frontHeaders(0),
      "proxy_pass http://gateway;",
    ],
  };
  return PUBLIC_PATHS.map(
    (path) =>
      `        location = ${path} {\n${directives[PUBLIC_ROUTES[path]].map((d) => `            ${d}`).join("\n")}\n        }`,
  ).join("\n");
}

/**
 * How long a variant's pool leaves a replica out after a request on it failed (it was down, hung
 * or restarting); `make promote` waits it out between replicas.
 */
export const POOL_FAIL_TIMEOUT_SECONDS = 5;

export interface RenderOptions {
  /** make bench's extra nginx location. */
  benchmark?: boolean;
}

export function renderAll(
  settings: Settings,
  topology: Topology,
  options: RenderOptions = {},
): void {
  const { where, output: out } = topology;
  const processes = workerProcesses(settings, where);
  prepareFolders(topology, workerProcesses(settings, out));
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
  installBundles(topology, [...new Set(processes.map((p) => p.worker))]);
  installWorkerd(topology);
  for (const process of processes) {
    const wrangler = readWranglerConfig(process.worker);
    const config = workerdConfig({
      worker: process.worker,
      bundle: {
        here: join(out.bundles, process.worker),
        seenAt: join(where.bundles, process.worker),
      },
      configDir: dirname(workerdConfigOf(where, process.name)),
      trafficAddress: addressOf(process),
      opsAddress: `${topology.internalHost}:${process.opsPort}`,
      adminAddress: process.adminSocket && `unix:${process.adminSocket}`,
      vars:
        process.worker === "gateway"
          ? settings.gatewayVars
          : { ...wrangler.vars, REPLICA: process.name },
      secrets: localSecrets(wrangler.secrets?.required ?? []),
      serviceAddresses,
      durableObjectsDir: where.durableObjects,
    });
    writeInPlace(out, workerdConfigOf(out, process.name), config, 0o600, topology.owners?.workers);
  }

  const benchmarkLocations = options.benchmark
    ? `        # make bench only: the ceiling, nginx answering over the same TLS without any upstream.
        location = /bench/ceiling { default_type application/json; return 200 '{"prediction value":"neutral"}'; }`
    : "";
  const nginx = renderTemplate(
    readFileSync(join(ROOT, "deployments/nginx/nginx.conf.template"), "utf8"),
    {
      USER_DIRECTIVE: topology.nginxWorkers
        ? `user ${topology.nginxWorkers.user} ${topology.nginxWorkers.group};`
        : "# No user directive: the stack runs as an ordinary user, and so do nginx's workers.",
      RUN_DIR: where.run,
      CERT_DIR: where.certs,
      NGINX_DIR: join(where.root, "deployments/nginx"),
      BIND_ADDR: topology.bindAddr,
      HTTP_PORT: String(settings.httpPort),
      HTTPS_PORT: String(settings.httpsPort),
      CONNECTIONS_PER_ADDRESS: String(settings.connectionsPerAddress),
      STUB_STATUS_LISTEN: `${topology.internalHost}:${settings.stubStatusPort}`,
      GATEWAY_ADDR: `unix:${gateway!.socket}`,
      PUBLIC_LOCATIONS: publicLocations(settings),
      FRONT_HEADERS: frontHeaders(8),
      FRONT_HEADERS_IN_LOCATION: frontHeaders(12),
      PUBLIC_RATE: String(settings.publicRatePerAddress),
      PUBLIC_LIMIT: publicLimit(settings)
        .map((line) => `            ${line}`)
        .join("\n"),
      API_RATE: apiLimit(settings).rate,
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
                    `        server unix:${p.socket} max_fails=1 fail_timeout=${POOL_FAIL_TIMEOUT_SECONDS}s;`,
                )
                .join("\n"),
            },
          ),
        )
        .join("\n"),
      BENCHMARK_LOCATIONS: benchmarkLocations,
      SANE_REQUEST_ID: SANE_REQUEST_ID.source,
      TAKES_GZIP: TAKES_GZIP.source,
      PROBLEM_TITLES: Object.entries(PROBLEM_TITLES)
        .map(([status, title]) => `        ${status} "${title}";`)
        .join("\n"),
    },
  );
  // Read by nginx's master alone (root, or the user of an ordinary stack).
  writeFileSync(written.nginx, nginx, { mode: 0o600 });
  chmodSync(written.nginx, 0o600);

  // One job per worker (the gateway, each variant), a target per process; nginx's exporter, and
  // the monitoring's own processes.
  const job = (name: string, targets: string[]) =>
    `  - job_name: ${name}\n    static_configs:\n      - targets: ${JSON.stringify(targets)}`;
  const prometheus = renderTemplate(
    readFileSync(join(ROOT, "deployments/prometheus/prometheus.yml.template"), "utf8"),
    {
      ALERTMANAGERS: `${topology.scrapeHost("alertmanager")}:${settings.alertmanagerPort}`,
      RULES_FILES: [...PROMETHEUS_RULES, SLO_RULES]
        .map((file) => `  - ${join(renderedFiles(where).prometheusConfig, file)}`)
        .join("\n"),
      SCRAPE_JOBS: [
        job("nginx", [`${topology.scrapeHost("nginx-exporter")}:${settings.exporterPort}`]),
        job("prometheus", [`${topology.scrapeHost("prometheus")}:${settings.prometheusPort}`]),
        job("alertmanager", [
          `${topology.scrapeHost("alertmanager")}:${settings.alertmanagerPort}`,
        ]),
        job(ALERT_RECEIVER, [
          `${topology.scrapeHost(ALERT_RECEIVER)}:${settings.alertReceiverPort}`,
        ]),
        job("node", [`${topology.scrapeHost("node-exporter")}:${settings.nodeExporterPort}`]),
        job("mtail", [`${topology.scrapeHost("mtail")}:${settings.mtailPort}`]),
        ...(["gateway", ...VARIANTS] as const).map((worker) =>
          job(
            worker,
            ofWorker(worker).map((p) => `${topology.scrapeHost(p.name)}:${p.opsPort}`),
          ),
        ),
      ].join("\n"),
    },
  );
  // No secret in them: readable by Prometheus's user, changed by the renderer alone.
  writeInPlace(out, written.prometheus, prometheus, 0o644);
  for (const file of PROMETHEUS_RULES)
    writeInPlace(
      out,
      join(written.prometheusConfig, file),
      readFileSync(join(ROOT, "deployments/prometheus", file), "utf8"),
      0o644,
    );

  writeInPlace(out, join(written.prometheusConfig, SLO_RULES), sloRules(settings.slo), 0o644);

  const alertmanager = renderTemplate(
    readFileSync(join(ROOT, "deployments/alertmanager/alertmanager.yml.template"), "utf8"),
    {
      RECEIVER_URL: `http://${topology.scrapeHost(ALERT_RECEIVER)}:${settings.alertReceiverPort}/alerts`,
    },
  );
  // No secret in it while every receiver is the local one (a real receiver's keys go in files of
  // their own: the README's "Alerts").
  writeInPlace(out, written.alertmanager, alertmanager, 0o644);
  writeInPlace(out, join(written.mtailPrograms, MTAIL_PROGRAM), mtailProgram(), 0o644);
}
