/**
 * workers/manifest.ts is the one list of variants: adding one takes what its comment says and no
 * more. Proven on a copy of the checkout, where a v3 is added exactly that way and the stack's
 * configs (native, docker-compose, Prometheus) are rendered and checked, the v3 bundle built, and
 * everything typechecked.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindingOf, VARIANTS } from "../../workers/manifest.ts";
import { copyOfCheckout } from "./checkout-copy.ts";
import { parseEnvFile, readWranglerConfig, runtimeDirectory, stackHome } from "./settings.ts";

describe("the manifest", () => {
  it("names its variants as bindings and settings can be named (a lowercase letter, then letters and digits)", () => {
    for (const variant of VARIANTS) expect(variant).toMatch(/^[a-z][a-z0-9]*$/);
  });

  it("names every variant the gateway's wrangler.toml binds, by its binding and worker name", () => {
    const services = readWranglerConfig("gateway").services ?? [];
    expect(services.map((s) => [s.binding, s.service])).toEqual(
      VARIANTS.map((variant) => [bindingOf(variant), readWranglerConfig(variant).name]),
    );
  });
});

describe("adding a variant v3 with two replicas (its folder, a manifest entry, its binding, its settings)", () => {
  let copy: string;
  /** Runs a command in the copy; its output. */
  const run = (command: string, args: string[]) =>
    execFileSync(command, args, { cwd: copy, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const read = (path: string) => readFileSync(join(copy, path), "utf8");
  /** A file of the processes' home (outside the checkout when the tests run as root). */
  const inHome = (path: string) => join(stackHome(copy), path);

  beforeAll(() => {
    copy = copyOfCheckout("fortress-v3-");

    // 1. Its folder: a wrangler.toml and an index.ts, as v2's.
    mkdirSync(join(copy, "workers/v3"));
    writeFileSync(
      join(copy, "workers/v3/wrangler.toml"),
      read("workers/v2/wrangler.toml")
        .replace('name = "fortress-v2"', 'name = "fortress-v3"')
        .replace('REPLICA = "v2"', 'REPLICA = "v3"'),
    );
    writeFileSync(
      join(copy, "workers/v3/index.ts"),
      read("workers/v2/index.ts").replaceAll('"v2"', '"v3"'),
    );
    // 2. Its manifest entry.
    const manifest = read("workers/manifest.ts");
    writeFileSync(
      join(copy, "workers/manifest.ts"),
      manifest.replace(
        '  v2: { payload: "debug", experimentGroup: "debug" },\n',
        '$&  v3: { payload: "debug", experimentGroup: "v3" },\n',
      ),
    );
    // 3. Its binding in the gateway's wrangler.toml, and the Env types anew.
    writeFileSync(
      join(copy, "wrangler.toml"),
      `${read("wrangler.toml")}\n[[services]]\nbinding = "V3"\nservice = "fortress-v3"\n`,
    );
    run("npm", ["run", "--silent", "types"]);
    // 4. Its settings: the model it serves, its replicas and its ops ports.
    const model = parseEnvFile(read("deployments/settings.env")).V1_MODEL;
    writeFileSync(
      join(copy, "deployments/settings.env"),
      `${read("deployments/settings.env")}V3_MODEL=${model}\nV3_REPLICAS=2\nV3_OPS_PORT=9211\n`,
    );
  }, 60_000);

  afterAll(() => {
    if (!copy) return;
    rmSync(runtimeDirectory(copy), { recursive: true, force: true });
    rmSync(stackHome(copy), { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  });

  it("builds v3's bundle with its model and typechecks, the gateway's routing and health included", () => {
    run("npx", ["tsx", "scripts/build.ts", "v3"]);
    expect(existsSync(join(copy, "dist/v3/index.js"))).toBe(true);
    expect(read("workers/gateway/worker-configuration.d.ts")).toMatch(/V3: Fetcher/);
    run("npx", ["tsc", "-p", "tsconfig.json"]);
    run("npx", ["tsc", "-p", "workers/tsconfig.json"]);
  }, 120_000);

  it("renders a native stack that runs v3's replicas behind a pool of their own, binds the gateway to it and scrapes them, and that nginx and promtool accept", () => {
    run("npx", ["tsx", "scripts/stack/stack.ts", "render"]);
    for (const replica of ["v3-0", "v3-1"]) {
      expect(existsSync(inHome(`workerd/${replica}/workerd.capnp`))).toBe(true);
      expect(read(".state/supervisord.conf")).toMatch(
        new RegExp(`^\\[program:${replica}\\]$`, "m"),
      );
    }
    expect(readFileSync(inHome("workerd/gateway/workerd.capnp"), "utf8")).toMatch(
      /name = "fortress-v3", external = \(address = "unix:[^"]+\/v3-pool\.sock"/,
    );
    const nginx = read(".state/nginx/nginx.conf");
    expect(nginx).toMatch(
      /upstream v3_pool \{\n +server unix:[^ ]+\/v3-0\.sock [^\n]+\n +server unix:[^ ]+\/v3-1\.sock /,
    );
    expect(nginx).toMatch(/listen unix:[^ ]+\/v3-pool\.sock;/);
    const jobs = parseYaml(
      readFileSync(inHome("prometheus-config/prometheus.yml"), "utf8"),
    ).scrape_configs.map((job: { job_name: string }) => job.job_name);
    expect(jobs).toEqual([
      "nginx",
      "prometheus",
      "alertmanager",
      "alert-receiver",
      "node",
      "mtail",
      "gateway",
      "v1",
      "v2",
      "v3",
    ]);
    run("promtool", ["check", "config", inHome("prometheus-config/prometheus.yml")]);
    // Its access log is /dev/stdout, which cannot be opened when that is a socket (as Node's pipes are).
    execFileSync("nginx", ["-t", "-q", "-c", join(copy, ".state/nginx/nginx.conf")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  }, 60_000);

  it("writes a docker-compose.yml with a service for each v3 replica that docker-compose accepts", () => {
    run("npx", ["tsx", "scripts/stack/stack.ts", "compose"]);
    const compose = parseYaml(read("docker-compose.yml"));
    expect(compose.services["v3-1"].command.join(" ")).toContain(
      "/app/.state/docker/workerd/v3-1/workerd.capnp",
    );
    expect(compose.services.render.environment).toContain("V3_MODEL");
    expect(run("docker-compose", ["config", "-q"])).toBe("");
  }, 60_000);
});
