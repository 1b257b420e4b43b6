/**
 * The local stack's settings: deployments/settings.env, overridden by the environment, plus the
 * gateway's vars from wrangler.toml (the rate limits' one home). Paths of everything generated.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { VERSION_PATTERN } from "../../model/serving/model-version.ts";
import { parseGatewayConfig } from "../../workers/gateway/config.ts";
import { THRESHOLDS } from "../experiment/thresholds.ts";
import { parseSlo, type SloObjectives } from "../slo/objectives.ts";
import { MIN_STEP_SECONDS, type Plan } from "../../workers/gateway/rollout/rollout-api.ts";
import { bindingOf, STABLE, VARIANTS, type Variant } from "../../workers/manifest.ts";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** One folder a model version. */
export const MODEL_VERSIONS = join(ROOT, "model/versions");

/** How a checkout is told apart in folders that every checkout shares (/run, /var/lib). */
const checkoutId = (root: string) => createHash("sha256").update(root).digest("hex").slice(0, 12);

/**
 * Where the native stack's sockets, PID files and nginx's temporary files live: outside the
 * checkout, so that nginx's unprivileged workers reach them however closed the checkout's folders
 * are (a clone under a 0700 home), and one folder per checkout. As root, under /run; otherwise in
 * the user's runtime folder, where nginx's workers run as that user anyway.
 */
export function runtimeDirectory(
  root: string,
  uid = process.getuid?.() ?? 0,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const base = uid === 0 ? "/run" : (env.XDG_RUNTIME_DIR ?? env.TMPDIR ?? "/tmp");
  return join(base, `fortress-edge-${uid}-${checkoutId(root)}`);
}

/**
 * Where the stack's unprivileged processes find what they read and write (their configs, bundles
 * and binary, the Durable Objects' and Prometheus's storage). Started as root, they run as the
 * stack's own user, who cannot enter a checkout that is a 0700 folder of root's: so under
 * /var/lib, one folder per checkout. Otherwise they run as the user who started them, in the
 * checkout's state folder.
 */
export function stackHome(root: string, uid = process.getuid?.() ?? 0): string {
  return uid === 0 ? join("/var/lib", `fortress-edge-${checkoutId(root)}`) : join(root, ".state");
}

/** What the stack reads of a wrangler.toml. */
export interface WranglerConfig {
  name: string;
  compatibility_date: string;
  compatibility_flags?: string[];
  vars?: Record<string, string>;
  secrets?: { required?: string[] };
  durable_objects?: { bindings: { name: string; class_name: string }[] };
  migrations?: { tag: string; new_sqlite_classes?: string[]; new_classes?: string[] }[];
  services?: { binding: string; service: string; entrypoint?: string }[];
}

/** Each worker's wrangler.toml, relative to the checkout: the gateway's at the top, each variant's in its folder. */
export const WRANGLER_CONFIGS = {
  gateway: "wrangler.toml",
  ...(Object.fromEntries(
    VARIANTS.map((variant) => [variant, `workers/${variant}/wrangler.toml`]),
  ) as Record<Variant, string>),
  "bench-inference": "bench/inference-worker/wrangler.toml",
};
export type WorkerName = keyof typeof WRANGLER_CONFIGS;

export function readWranglerConfig(worker: WorkerName): WranglerConfig {
  return parse(
    readFileSync(join(ROOT, WRANGLER_CONFIGS[worker]), "utf8"),
  ) as unknown as WranglerConfig;
}

/**
 * Where everything is, for a checkout at `root` whose generated state lives in `state`, runtime
 * files in `run`, and its processes' own files in `home`.
 */
export function stackPaths(
  root: string,
  state = join(root, ".state"),
  run = join(state, "run"),
  home = state,
) {
  return {
    root,
    state,
    run,
    /** workerd's sockets: a folder of the processes' own, in the runtime folder (which is the renderer's). */
    workerSockets: join(run, "workers"),
    /**
     * The gateway's management socket: a folder of the stack's user alone, outside the runtime
     * folder that nginx's workers (and in compose its container) enter.
     */
    adminSockets: join(home, "admin"),
    home,
    logs: join(state, "logs"),
    workerdConfigs: join(home, "workerd"),
    durableObjects: join(home, "durable-objects"),
    prometheusData: join(home, "prometheus"),
    /** The processes' copy of dist/ and of the programs they run (workerd, the watchdog). */
    bundles: join(home, "dist"),
    programs: join(home, "bin"),
    certs: join(root, "deployments/nginx/certs"),
    secrets: join(root, ".secrets"),
    credentials: join(root, ".secrets/credentials.env"),
    apiUsers: join(root, ".secrets/api-users"),
    dist: join(root, "dist"),
  };
}

export type StackPaths = ReturnType<typeof stackPaths>;

/** This checkout's paths. */
export const paths = stackPaths(
  ROOT,
  join(ROOT, ".state"),
  runtimeDirectory(ROOT),
  stackHome(ROOT),
);

/** KEY=value lines; # comments and blank lines skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = line.match(/^\s*([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (match) values[match[1]!] = match[2]!.trim();
  }
  return values;
}

export interface Settings {
  bindAddr: string;
  httpPort: number;
  httpsPort: number;
  stubStatusPort: number;
  exporterPort: number;
  prometheusPort: number;
  alertmanagerPort: number;
  alertReceiverPort: number;
  nodeExporterPort: number;
  mtailPort: number;
  gatewayOpsPort: number;
  connectionsPerAddress: number;
  /** Requests a second, and at once, one address may send to the public pages. */
  publicRatePerAddress: number;
  publicBurstPerAddress: number;
  /** Started as root: the system user the stack's processes run as, whose group is the stack's own. */
  stackUser: string;
  /** Started as root: the system user nginx's workers run as, in the stack's group. */
  nginxWorkerUser: string;
  /** Each variant's (workers/manifest.ts), from its <NAME>_ settings. */
  variants: Record<Variant, VariantSettings>;
  /** The gateway's vars: wrangler.toml's, each overridable from the environment. */
  gatewayVars: Record<string, string>;
  /** An automated rollout's plan (ROLLOUT_* settings): `npm run rollout -- start` fixes it. */
  rollout: Plan;
  /** The SLOs of POST /predict (SLO_* settings), as fractions: scripts/slo/objectives.ts. */
  slo: SloObjectives;
}

export interface VariantSettings {
  /** <NAME>_MODEL: the model version (model/versions/<version>) it serves. */
  model: string;
  /** <NAME>_REPLICAS (1 when not set): its workerd processes; more than one stand behind an nginx pool. */
  replicas: number;
  /** <NAME>_OPS_PORT: the ops port of its first process; replica i listens on this + i. */
  opsPort: number;
}

/** The setting of a variant: V1_MODEL, V2_REPLICAS, … */
export const variantSetting = (
  variant: Variant,
  name: "MODEL" | "REPLICAS" | "OPS_PORT" | "MODEL_BEFORE",
) => `${bindingOf(variant)}_${name}`;

/**
 * What `make promote` / `make rollback` chose (the stable variant's model, V1_MODEL, and
 * V1_MODEL_BEFORE to go back to): kept in the checkout's state so that it survives a stop and
 * start; the environment still wins.
 */
export const MODEL_SELECTION = join(ROOT, ".state/model-selection.env");

export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  selection = MODEL_SELECTION,
): Settings {
  const defaults = parseEnvFile(readFileSync(join(ROOT, "deployments/settings.env"), "utf8"));
  const selected = existsSync(selection) ? parseEnvFile(readFileSync(selection, "utf8")) : {};
  const value = (key: string) => env[key] ?? selected[key] ?? defaults[key] ?? "";
  if (value("V1_OPS_BASE_PORT"))
    throw new Error(
      "V1_OPS_BASE_PORT is now V1_OPS_PORT (each variant's setting is <NAME>_OPS_PORT): rename it",
    );
  const port = (key: string) => {
    const n = Number(value(key));
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new Error(`${key}=${value(key)} is not a port`);
    return n;
  };
  const wrangler = readWranglerConfig("gateway");
  // Behind our nginx, the client's address arrives in X-Real-IP (on Cloudflare: CF-Connecting-IP).
  // Every other var of wrangler.toml can be set at start, like the settings above.
  const gatewayVars: Record<string, string> = Object.fromEntries(
    Object.entries(wrangler.vars ?? {}).map(([key, fallback]) => [key, value(key) || fallback]),
  );
  gatewayVars.CLIENT_IP_HEADER = "X-Real-IP";
  // Refused here, with the var's name, rather than by a gateway that would not start.
  parseGatewayConfig(gatewayVars);
  const atLeastOne = (key: string) => {
    const n = Number(value(key));
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${key}=${value(key)} must be a whole number, 1 or more`);
    return n;
  };
  const modelVersion = (key: string) => {
    const version = value(key);
    if (
      !existsSync(join(MODEL_VERSIONS, version, "emotion.onnx")) ||
      !VERSION_PATTERN.test(version)
    ) {
      throw new Error(
        `${key}=${version} is not a model version (model/versions/<version>; make models lists them)`,
      );
    }
    return version;
  };
  const settings: Settings = {
    bindAddr: value("BIND_ADDR"),
    httpPort: port("HTTP_PORT"),
    httpsPort: port("HTTPS_PORT"),
    stubStatusPort: port("STUB_STATUS_PORT"),
    exporterPort: port("EXPORTER_PORT"),
    prometheusPort: port("PROMETHEUS_PORT"),
    alertmanagerPort: port("ALERTMANAGER_PORT"),
    alertReceiverPort: port("ALERT_RECEIVER_PORT"),
    nodeExporterPort: port("NODE_EXPORTER_PORT"),
    mtailPort: port("MTAIL_PORT"),
    gatewayOpsPort: port("GATEWAY_OPS_PORT"),
    connectionsPerAddress: atLeastOne("CONNECTIONS_PER_ADDRESS"),
    publicRatePerAddress: atLeastOne("PUBLIC_RATE_PER_ADDRESS"),
    publicBurstPerAddress: atLeastOne("PUBLIC_BURST_PER_ADDRESS"),
    stackUser: value("STACK_USER"),
    nginxWorkerUser: value("NGINX_WORKER_USER"),
    variants: Object.fromEntries(
      VARIANTS.map((variant) => [
        variant,
        {
          model: modelVersion(variantSetting(variant, "MODEL")),
          replicas:
            value(variantSetting(variant, "REPLICAS")) === ""
              ? 1
              : atLeastOne(variantSetting(variant, "REPLICAS")),
          opsPort: port(variantSetting(variant, "OPS_PORT")),
        },
      ]),
    ) as Record<Variant, VariantSettings>,
    gatewayVars,
    rollout: {
      steps: rolloutSteps(value("ROLLOUT_STEPS")),
      stepSeconds: rolloutStepSeconds(value("ROLLOUT_STEP_SECONDS")),
      minRequests:
        value("ROLLOUT_MIN_REQUESTS") === ""
          ? THRESHOLDS.minRequests
          : atLeastOne("ROLLOUT_MIN_REQUESTS"),
      holdSteps: atLeastOne("ROLLOUT_HOLD_STEPS"),
    },
    slo: parseSlo(value),
  };
  // The stack's user holds the workers' configs and secrets; nginx's workers must not.
  if (["", "root"].includes(settings.stackUser) || settings.stackUser === settings.nginxWorkerUser)
    throw new Error(
      `STACK_USER=${settings.stackUser} must name a user of its own: not root, not NGINX_WORKER_USER`,
    );
  // Two servers cannot listen on one port: refused here, with both names, rather than by a
  // process that would not start (a variant's replicas take its ops port and the ones after it).
  const taken = new Map<number, string>();
  for (const { name, port } of stackPorts(settings)) {
    if (port > 65535) throw new Error(`${name} would listen on ${port}, which is not a port`);
    if (taken.has(port))
      throw new Error(`${name} and ${taken.get(port)} would both listen on port ${port}: move one`);
    taken.set(port, name);
  }
  return settings;
}

/** ROLLOUT_STEP_SECONDS: MIN_STEP_SECONDS or more. */
function rolloutStepSeconds(text: string): number {
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < MIN_STEP_SECONDS)
    throw new Error(
      `ROLLOUT_STEP_SECONDS=${text} must be a whole number of seconds, ${MIN_STEP_SECONDS} or more`,
    );
  return seconds;
}

/** ROLLOUT_STEPS: rising percentages, comma-separated, the last 100 (then v1 takes v2's model). */
function rolloutSteps(text: string): number[] {
  const steps = text.split(",").map((step) => Number(step.trim()));
  const rising = steps.every(
    (step, i) => step > 0 && step <= 100 && (i === 0 || step > steps[i - 1]!),
  );
  if (!rising || steps.at(-1) !== 100)
    throw new Error(
      `ROLLOUT_STEPS=${text} must be rising percentages, comma-separated, the last 100 (e.g. 5,10,25,50,100)`,
    );
  return steps;
}

/** Every TCP port the stack listens on, with what listens there. */
export function stackPorts(settings: Settings): { name: string; port: number }[] {
  return [
    { name: "HTTP_PORT", port: settings.httpPort },
    { name: "HTTPS_PORT", port: settings.httpsPort },
    { name: "STUB_STATUS_PORT", port: settings.stubStatusPort },
    { name: "EXPORTER_PORT", port: settings.exporterPort },
    { name: "PROMETHEUS_PORT", port: settings.prometheusPort },
    { name: "ALERTMANAGER_PORT", port: settings.alertmanagerPort },
    { name: "ALERT_RECEIVER_PORT", port: settings.alertReceiverPort },
    { name: "NODE_EXPORTER_PORT", port: settings.nodeExporterPort },
    { name: "MTAIL_PORT", port: settings.mtailPort },
    ...workerProcesses(settings).map((p) => ({ name: `${p.name}'s ops port`, port: p.opsPort })),
  ];
}

/** Every workerd process of the stack: its name, worker, unix socket and ops port. */
export interface WorkerProcess {
  name: string;
  worker: "gateway" | Variant;
  socket: string;
  opsPort: number;
  /** The gateway's `Admin` entrypoint: the consumers' management (`npm run consumers`). */
  adminSocket?: string;
}

/** The gateway, then each variant's processes: `<variant>-<i>` when it has replicas, else `<variant>`. */
export function workerProcesses(settings: Settings, where: StackPaths = paths): WorkerProcess[] {
  return [
    {
      name: "gateway",
      worker: "gateway",
      socket: join(where.workerSockets, "gateway.sock"),
      opsPort: settings.gatewayOpsPort,
      adminSocket: join(where.adminSockets, "gateway.sock"),
    },
    ...VARIANTS.flatMap((variant) => {
      const { replicas, opsPort } = settings.variants[variant];
      return Array.from({ length: replicas }, (_, i) => {
        const name = replicas > 1 ? `${variant}-${i}` : variant;
        return {
          name,
          worker: variant,
          socket: join(where.workerSockets, `${name}.sock`),
          opsPort: opsPort + i,
        };
      });
    }),
  ];
}

/** Whether a variant's processes stand behind an nginx pool (more than one replica), and its socket there. */
export const pooled = (settings: Settings, variant: Variant) =>
  settings.variants[variant].replicas > 1;
export const poolSocketOf = (variant: Variant, where: StackPaths = paths) =>
  join(where.run, `${variant}-pool.sock`);

/** The stable variant's processes (the ones `make promote` restarts). */
export const stableProcesses = (settings: Settings, where: StackPaths = paths) =>
  workerProcesses(settings, where).filter((p) => p.worker === STABLE);
