/**
 * workerd configs (capnp text) generated from each worker's wrangler.toml, its one description:
 * the vars, secrets, Durable Objects and service bindings there become workerd's bindings, served
 * from the bundle that `npm run build` wrote, as Cloudflare would run it. What only this machine
 * knows comes from the caller: where each process listens, the vars' values at start, the
 * secrets' values, and where each bound service is reached.
 *
 * The stack's processes listen on a unix socket for traffic (measured faster than TCP on the
 * internal hops; reachable only by nginx's workers and the stack's user), served by the worker's
 * default entrypoint, and on 127.0.0.1:<ops port>, served by its `Ops` entrypoint: /health and
 * /metrics only, which Prometheus scrapes. So no TCP port of a worker can make a prediction, nor
 * choose the client IP the rate limit sees. The gateway also serves its `Admin` entrypoint (the
 * consumers' management) on a unix socket of a folder only the stack's user enters.
 */
import { join, relative } from "node:path";
import { bundleModules } from "./bundle-modules.ts";
import { readWranglerConfig, WRANGLER_CONFIGS, type WorkerName } from "./settings.ts";

/**
 * Keeps each process's memory and pauses in check. A request's Request and Headers (C++ objects,
 * their memory in workerd's allocator) are freed only when a full GC finds their JavaScript
 * wrappers dead, so RSS grows by the garbage between full GCs, and each full GC ends in one pause
 * that finalizes all of it. A semi-space of 8 MB (not 1) lets requests in flight die young, and V8
 * then runs a full GC every few seconds well below the old space's cap, so less garbage piles up
 * for each (README, "Measured": the runs and what else was tried). 64 MB of old space leaves v1/v2
 * room for the featurizer's tables (~30 MB).
 */
export const V8_FLAGS = ["--max-semi-space-size=8", "--max-old-space-size=64"];

/** The named export of every worker that serves /health and /metrics only. */
export const OPS_ENTRYPOINT = "Ops";
/** The gateway's named export that serves the consumers' management. */
export const ADMIN_ENTRYPOINT = "Admin";

export interface WorkerdProcessConfig {
  worker: WorkerName;
  /** The built bundle: where it is listed from here, and where the process sees it. */
  bundle: { here: string; seenAt: string };
  /** The folder the config is written to, as the process sees it. */
  configDir: string;
  /** Where traffic reaches the default entrypoint: "unix:/path" or "host:port". */
  trafficAddress: string;
  /** Where the `Ops` entrypoint listens, if the worker has one. */
  opsAddress?: string;
  /** Where the `Admin` entrypoint listens, if the worker has one. */
  adminAddress?: string;
  /** Every [vars] entry's value at start (wrangler.toml's, or its override). */
  vars: Record<string, string>;
  /** The value of every secret of `secrets.required`. */
  secrets: Record<string, string>;
  /** Where each bound service (by its wrangler `name`) is reached: "unix:/path" or "host:port". */
  serviceAddresses: Record<string, string>;
  /** The folder of the Durable Objects' storage, when the worker has any. */
  durableObjectsDir?: string;
}

const quote = (text: string) => JSON.stringify(text);

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what}`);
  return value;
}

export function workerdConfig(spec: WorkerdProcessConfig): string {
  const config = readWranglerConfig(spec.worker);
  const where = `${WRANGLER_CONFIGS[spec.worker]}`;
  const sqliteClasses = new Set(
    (config.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []),
  );
  const durableObjects = config.durable_objects?.bindings ?? [];

  const bindings = [
    ...Object.keys(config.vars ?? {}).map(
      (name) =>
        `(name = ${quote(name)}, text = ${quote(required(spec.vars[name], `value for ${name} (${where} [vars])`))})`,
    ),
    ...(config.secrets?.required ?? []).map(
      (name) =>
        `(name = ${quote(name)}, text = ${quote(required(spec.secrets[name], `value for the secret ${name} (${where})`))})`,
    ),
    ...durableObjects.map(
      (d) => `(name = ${quote(d.name)}, durableObjectNamespace = ${quote(d.class_name)})`,
    ),
    ...(config.services ?? []).map((s) =>
      s.entrypoint
        ? `(name = ${quote(s.binding)}, service = (name = ${quote(s.service)}, entrypoint = ${quote(s.entrypoint)}))`
        : `(name = ${quote(s.binding)}, service = ${quote(s.service)})`,
    ),
  ];
  const services = [
    `(name = "main", worker = .worker)`,
    ...(config.services ?? []).map(
      (s) =>
        `(name = ${quote(s.service)}, external = (address = ${quote(required(spec.serviceAddresses[s.service], `address for the service ${s.service} (${where})`))}, http = ()))`,
    ),
    ...(durableObjects.length > 0
      ? [
          `(name = "do-disk", disk = (path = ${quote(required(spec.durableObjectsDir, `Durable Objects folder (${where})`))}, writable = true))`,
        ]
      : []),
  ];
  const sockets = [
    `(name = "http", address = ${quote(spec.trafficAddress)}, http = (), service = "main")`,
    ...(spec.opsAddress
      ? [
          `(name = "ops", address = ${quote(spec.opsAddress)}, http = (), service = (name = "main", entrypoint = ${quote(OPS_ENTRYPOINT)}))`,
        ]
      : []),
    ...(spec.adminAddress
      ? [
          `(name = "admin", address = ${quote(spec.adminAddress)}, http = (), service = (name = "main", entrypoint = ${quote(ADMIN_ENTRYPOINT)}))`,
        ]
      : []),
  ];
  // capnp resolves `embed` paths relative to the config file (an absolute one is not read).
  const modules = bundleModules(spec.bundle.here).map(
    (m) =>
      `(name = ${quote(m.name)}, ${m.type} = embed ${quote(relative(spec.configDir, join(spec.bundle.seenAt, m.name)))})`,
  );
  const namespaces =
    durableObjects.length > 0
      ? `
  durableObjectNamespaces = [
    ${durableObjects.map((d) => `(className = ${quote(d.class_name)}, uniqueKey = ${quote(`${config.name}-${d.class_name}`)}, enableSql = ${sqliteClasses.has(d.class_name)})`).join(",\n    ")}
  ],
  durableObjectStorage = (localDisk = "do-disk"),`
      : "";

  return `# Generated by scripts/stack from ${where}; do not edit (it may hold a secret: mode 0600).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${services.join(",\n    ")}
  ],
  sockets = [
    ${sockets.join(",\n    ")}
  ],
  v8Flags = [${V8_FLAGS.map(quote).join(", ")}],
  # One JSON object a line, with its time: workerd's own messages and the worker's console alike.
  logging = (structuredLogging = true),
);

const worker :Workerd.Worker = (
  modules = [
    ${modules.join(",\n    ")}
  ],
  compatibilityDate = ${quote(config.compatibility_date)},
  compatibilityFlags = [${(config.compatibility_flags ?? []).map(quote).join(", ")}],
  bindings = [
    ${bindings.join(",\n    ")}
  ],${namespaces}
);
`;
}
