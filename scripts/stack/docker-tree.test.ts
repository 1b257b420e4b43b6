/**
 * docker-compose.yml's containers, walked as each image's user over the tree its `render` service
 * writes. This machine has no Docker engine, so each container is simulated: in a mount namespace
 * of its own (unshare, as root), the service's volumes from the compose file are bound where the
 * container sees them (read-only where the file says so); then, as the image's user (setpriv
 * --reuid --regid --clear-groups), every file it reads must be readable, every socket it connects
 * to reachable (made first as its own maker would: workerd, or nginx's master), and no other file
 * of the rendered state readable.
 */
import { execFileSync, type SpawnSyncReturns, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyOfCheckout } from "./checkout-copy.ts";
import { GRAFANA_PASSWORD_IN_CONTAINER } from "./compose.ts";
import { IMAGE_USERS } from "./images.ts";
import { dockerTopology, renderedFiles, workerdConfigOf } from "./render.ts";
import { loadSettings, poolSocketOf, pooled, stackPaths, workerProcesses } from "./settings.ts";
import { VARIANTS } from "../../workers/manifest.ts";

const asRoot = process.getuid?.() === 0;

interface Volume {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What a service's user must be able to do, by the paths its container sees. */
interface Needs {
  uid: number;
  gid: number;
  reads: string[];
  writes: string[];
  connects: string[];
}

/**
 * What the checker (run as the image's user, in the namespace) finds: for each needed path
 * whether it could, and every file of the rendered state it can read.
 */
const CHECKER = `
const fs = require("node:fs"), net = require("node:net"), path = require("node:path");
const [root, needsJson, ...stateRoots] = process.argv.slice(1);
const needs = JSON.parse(needsJson);
const at = (p) => path.join(root, p);
const can = (p, mode) => { try { fs.accessSync(at(p), mode); return true; } catch { return false; } };
const readable = (p) => { try { fs.closeSync(fs.openSync(at(p), "r")); return true; } catch { return false; } };
const connects = (p) => new Promise((done) => net.connect(at(p)).on("connect", function () { this.destroy(); done(true); }).on("error", () => done(false)));
const files = (dir) => { try { return fs.readdirSync(at(dir), { withFileTypes: true }).flatMap((e) => e.isDirectory() ? files(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []); } catch { return []; } };
(async () => {
  const result = {
    reads: needs.reads.filter((p) => !readable(p)),
    writes: needs.writes.filter((p) => !can(p, fs.constants.W_OK | fs.constants.X_OK)),
    connects: [],
    alsoReadable: stateRoots.flatMap(files).filter((p) => !needs.reads.includes(p) && readable(p)),
  };
  for (const p of needs.connects) if (!(await connects(p))) result.connects.push(p);
  console.log(JSON.stringify(result));
})();
`;

/** A listener on each socket, as its maker makes it: workerd (the node image's user, umask 007) or nginx's master (root, mode 0666). */
const LISTENER = `
const net = require("node:net"), fs = require("node:fs");
const [mode, ...paths] = process.argv.slice(1);
let ready = 0;
for (const p of paths) net.createServer().listen(p, () => { if (mode) fs.chmodSync(p, 0o666); if (++ready === paths.length) console.log("ready"); });
`;

describe.runIf(asRoot)("docker-compose's containers, as their images' users", () => {
  let copy: string;
  let services: Record<string, { user?: string; volumes?: string[] }>;
  const settings = loadSettings();
  const { where } = dockerTopology();
  const files = renderedFiles(where);
  const processes = workerProcesses(settings, where);

  beforeAll(() => {
    copy = copyOfCheckout("fortress-docker-");
    execFileSync("npx", ["tsx", "scripts/stack/stack.ts", "render-docker"], {
      cwd: copy,
      stdio: "pipe",
    });
    services = parseYaml(readFileSync(join(copy, "docker-compose.yml"), "utf8")).services;
  }, 120_000);
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  /** The copy's docker tree, on this machine. */
  const stackPathsOfCopy = () => stackPaths(copy, join(copy, ".state/docker"));

  const volumesOf = (service: string): Volume[] =>
    (services[service]!.volumes ?? [])
      // Named volumes are docker's own (Prometheus's data), not of the tree.
      .filter((spec) => spec.startsWith("."))
      .map((spec) => {
        const [source, target, flags] = spec.split(":");
        return { source: join(copy, source!), target: target!, readOnly: flags === "ro" };
      });

  /** Runs the checker as the service's user in a namespace with its volumes, after the listeners for its sockets. */
  function walk(service: string, needs: Needs) {
    const volumes = volumesOf(service);
    const isDir = (path: string) => statSync(path).isDirectory();
    const mounts = volumes.map(
      ({ source, target, readOnly }) =>
        `${isDir(source) ? `mkdir -p "$R${target}"` : `mkdir -p "$(dirname "$R${target}")" && touch "$R${target}"`} && mount --bind "${source}" "$R${target}"${readOnly ? ` && mount -o remount,bind,ro "$R${target}"` : ""}`,
    );
    const pools = VARIANTS.map((variant) => poolSocketOf(variant, where));
    const bySomeWorkerd = needs.connects.filter((p) => !pools.includes(p));
    const byNginx = needs.connects.filter((p) => pools.includes(p));
    const node = process.execPath;
    /** Where a path the container sees is on this machine, by the volume that holds it. */
    const onHost = (seenAt: string) => {
      const volume = volumes
        .filter(({ target }) => seenAt.startsWith(`${target}/`))
        .sort((a, b) => b.target.length - a.target.length)[0]!;
      return join(volume.source, relative(volume.target, seenAt));
    };
    // Made where its maker sees it: nginx's in its own container (here, the folder on this
    // machine, which a read-only mount of this container's does not let it write), workerd's in theirs.
    const listen = (as: string, mode: string, paths: string[]) =>
      paths.length === 0
        ? ""
        : `${as} ${node} -e '${LISTENER}' "${mode}" ${paths.map((p) => `"${mode ? onHost(p) : `$R${p}`}"`).join(" ")} > "$R/.ready-${mode || "w"}" & sleep 0.05; until [ -s "$R/.ready-${mode || "w"}" ]; do sleep 0.05; done`;
    const workerd = IMAGE_USERS.workerd;
    const script = [
      "set -e",
      `chmod 755 "$R"`,
      ...mounts,
      listen(
        `setpriv --reuid ${workerd.uid} --regid ${workerd.gid} --clear-groups sh -c 'umask 007; exec "$0" "$@"'`,
        "",
        bySomeWorkerd,
      ),
      listen("", "nginx", byNginx),
      `setpriv --reuid ${needs.uid} --regid ${needs.gid} --clear-groups ${node} -e '${CHECKER}' "$R" '${JSON.stringify(needs)}' ${volumes
        .filter(({ source }) => generated(source))
        .map(({ target }) => `"${target}"`)
        .join(" ")}`,
      "kill $(jobs -p) 2>/dev/null || true",
    ]
      .filter(Boolean)
      .join("\n");
    // The container's root: $R in the script.
    const scratch = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    let run: SpawnSyncReturns<string>;
    try {
      run = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", script], {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, R: scratch },
      });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    if (run.status !== 0) throw new Error(`${service}: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  }

  /** Whether a mounted source is generated (the render's state, secrets, certificates), not a file of the repository. */
  const generated = (source: string) =>
    [".state", ".secrets", "deployments/nginx/certs"].some((dir) =>
      source.startsWith(join(copy, dir)),
    );

  /** Every regular file under a folder of the copy, as the container sees it. */
  const filesUnder = (seenAt: string): string[] => {
    const here = join(copy, relative(where.root, seenAt));
    return readdirSync(here, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(seenAt, relative(here, entry.parentPath), entry.name));
  };

  const nothingAmiss = { reads: [], writes: [], connects: [], alsoReadable: [] };

  it.each(processes.map((p) => [p.name, p] as const))(
    "%s (workerd, as the node image's user) reads its config, bundle and binary, writes its sockets and storage, reaches its bindings, and reads nothing else",
    (name, p) => {
      const worker = p.worker;
      const config = readFileSync(workerdConfigOf(stackPathsOfCopy(), name), "utf8");
      // Every socket its config names but its own: the services it is bound to.
      const connects = [...config.matchAll(/address = "unix:([^"]+)"/g)]
        .map((match) => match[1]!)
        .filter((socket) => socket !== p.socket);
      const needs: Needs = {
        ...IMAGE_USERS.workerd,
        reads: [
          files.workerd,
          workerdConfigOf(where, name),
          ...filesUnder(join(where.bundles, worker)),
        ],
        writes: [
          where.workerSockets,
          ...(worker === "gateway" ? [where.durableObjects, where.adminSockets] : []),
        ],
        connects,
      };
      expect(walk(name, needs)).toEqual(nothingAmiss);
    },
    60_000,
  );

  it("nginx's workers (the nginx image's user) reach every workerd socket nginx sends to, and read nothing of the rendered state", () => {
    const nginxConfig = readFileSync(join(copy, ".state/docker/nginx/nginx.conf"), "utf8");
    const connects = [
      ...new Set([...nginxConfig.matchAll(/server unix:([^ ;]+)/g)].map((match) => match[1]!)),
    ];
    // The gateway (by both its upstreams), and every replica behind a pool.
    expect(connects.sort()).toEqual(
      processes
        .filter((p) => p.worker === "gateway" || pooled(settings, p.worker))
        .map((p) => p.socket)
        .sort(),
    );
    const needs: Needs = { ...IMAGE_USERS.nginx, reads: [], writes: [], connects };
    const found = walk("nginx", needs);
    // A certificate is public by nature; its key is not.
    expect({
      ...found,
      alsoReadable: found.alsoReadable.filter((p: string) => !p.endsWith(".crt")),
    }).toEqual(nothingAmiss);
  }, 60_000);

  it("Prometheus (as nobody) reads its config and rules, and nothing else", () => {
    const needs: Needs = {
      ...IMAGE_USERS.prometheus,
      reads: filesUnder(files.prometheusConfig),
      writes: [],
      connects: [],
    };
    expect(needs.reads).toContain(files.prometheus);
    expect(walk("prometheus", needs)).toEqual(nothingAmiss);
  }, 60_000);

  it("Grafana (as its image's user) reads its generated admin password, and nothing else", () => {
    const needs: Needs = {
      ...IMAGE_USERS.grafana,
      reads: [GRAFANA_PASSWORD_IN_CONTAINER],
      writes: [],
      connects: [],
    };
    expect(walk("grafana", needs)).toEqual(nothingAmiss);
  }, 60_000);

  it("runs each workerd container as the node image's user, and mounts the checkout into the render service only, and .secrets into none", () => {
    for (const p of processes) expect(services[p.name]!.user).toBe(IMAGE_USERS.workerd.name);
    for (const [name, service] of Object.entries(services)) {
      const volumes = service.volumes ?? [];
      if (name === "render") continue;
      for (const volume of volumes) {
        expect(volume.startsWith(".:"), `${name}: ${volume}`).toBe(false);
        expect(volume.startsWith("./.secrets"), `${name}: ${volume}`).toBe(false);
      }
    }
    expect(services.render!.volumes).not.toContainEqual(expect.stringContaining(".secrets"));
  });
});
