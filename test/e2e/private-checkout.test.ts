/**
 * A second stack, from a copy of this checkout in a folder of mode 0700 (as a clone under root's
 * home or in `mktemp -d` is), on ports of its own beside the stack the other suites use: it starts,
 * serves a prediction through nginx, and stops with nothing left listening and no runtime folder.
 */
import { execFile as execFileCallback, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseEnvFile, ROOT, runtimeDirectory } from "../../scripts/stack/settings.ts";

const execFile = promisify(execFileCallback);

/** Every port of the second stack: the usual ones moved up by 10,000. */
const PORTS = {
  HTTP_PORT: "18080",
  HTTPS_PORT: "18443",
  STUB_STATUS_PORT: "18081",
  EXPORTER_PORT: "19113",
  PROMETHEUS_PORT: "19090",
  GATEWAY_OPS_PORT: "19200",
  V1_OPS_BASE_PORT: "19201",
  V2_OPS_PORT: "19210",
};

const parent = mkdtempSync(join(tmpdir(), "fortress-private-"));
const checkout = join(parent, "fortress");

/** The checkout's files as they are now (tracked and untracked, not ignored), its build and its modules. */
function copyCheckout(): void {
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    cpSync(join(ROOT, file), join(checkout, file), { verbatimSymlinks: true });
  }
  cpSync(join(ROOT, "dist"), join(checkout, "dist"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
}

const stack = (command: string) =>
  execFile(join(checkout, "node_modules/.bin/tsx"), ["scripts/stack/stack.ts", command], {
    cwd: checkout,
    env: { ...process.env, ...PORTS },
    encoding: "utf8",
    timeout: 60_000,
  });

function predictThroughCopy(): Promise<{ status: number; body: string }> {
  const credentials = parseEnvFile(readFileSync(join(checkout, ".secrets/credentials.env"), "utf8"));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: Number(PORTS.HTTPS_PORT),
        path: "/predict",
        method: "POST",
        ca: readFileSync(join(checkout, "deployments/nginx/certs/nginx.crt")),
        servername: "localhost",
        auth: `${credentials.API_USER}:${credentials.API_PASSWORD}`,
        headers: { "Content-Type": "application/json" },
        timeout: 10_000,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ sentence: "I love this!" }));
  });
}

describe("a checkout in a private folder", () => {
  it("starts from a 0700 folder, serves a prediction through nginx, and stops with no port left listening and no runtime folder", async () => {
    expect(statSync(parent).mode & 0o777).toBe(0o700);
    copyCheckout();
    await stack("start");
    expect(await predictThroughCopy()).toEqual({ status: 200, body: '{"prediction value":"love"}' });
    const { stdout } = await stack("stop");
    expect(stdout).toContain("none of its ports is listening");
    expect(existsSync(runtimeDirectory(checkout)), "its runtime folder").toBe(false);
  }, 120_000);

  afterAll(async () => {
    await stack("stop").catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  }, 60_000);
});
