/**
 * A second stack, from a copy of this checkout in a folder of mode 0700 (as a clone under a home
 * or in `mktemp -d` is), on ports of its own beside the stack the other suites use: it starts,
 * serves a prediction through nginx, and stops with nothing left listening and no runtime folder.
 * Once as the user running the tests, once (when that is root) as an ordinary user, `nobody`.
 */
import { execFile as execFileCallback, execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseEnvFile, ROOT, runtimeDirectory, stackHome } from "../../scripts/stack/settings.ts";

const execFile = promisify(execFileCallback);

/** Every port a stack listens on, as the stack's settings name them (…_PORT), with the usual values. */
const USUAL_PORTS = Object.fromEntries(
  Object.entries(parseEnvFile(readFileSync(join(ROOT, "deployments/settings.env"), "utf8")))
    .filter(([name]) => name.endsWith("_PORT"))
    .map(([name, port]) => [name, Number(port)]),
);

interface Owner {
  uid: number;
  gid: number;
}

const asRoot = process.getuid?.() === 0;
const nobody: Owner = {
  uid: Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" })),
  gid: Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" })),
};

/** A copy of the checkout's files as they are now (tracked and untracked, not ignored) and its build, in a new 0700 folder. */
function privateCopy(portOffset: number, owner?: Owner) {
  const parent = mkdtempSync(join(tmpdir(), "fortress-private-"));
  const checkout = join(parent, "fortress");
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    cpSync(join(ROOT, file), join(checkout, file), { verbatimSymlinks: true });
  }
  cpSync(join(ROOT, "dist"), join(checkout, "dist"), { recursive: true });
  if (owner) {
    for (const entry of [
      parent,
      checkout,
      ...readdirSync(checkout).map((name) => join(checkout, name)),
    ]) {
      execFileSync("chown", ["-R", `${owner.uid}:${owner.gid}`, entry]);
    }
    // The modules as hard links (instant, and readable without a way into this checkout's
    // folders, which another user may not have); not chowned, as they share their files' inodes.
    execFileSync("cp", ["-al", join(ROOT, "node_modules"), join(checkout, "node_modules")]);
  } else {
    symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
  }
  const ports = Object.fromEntries(
    Object.entries(USUAL_PORTS).map(([name, port]) => [name, String(port + portOffset)]),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports };
  if (owner) {
    // The user's own: root's runtime folder and home are not theirs.
    delete env.XDG_RUNTIME_DIR;
    env.HOME = parent;
  }
  const stack = (command: string, overrides: NodeJS.ProcessEnv = {}) =>
    execFile(join(checkout, "node_modules/.bin/tsx"), ["scripts/stack/stack.ts", command], {
      cwd: checkout,
      env: { ...env, ...overrides },
      encoding: "utf8",
      timeout: 60_000,
      ...owner,
    });

  function predict(): Promise<{ status: number; body: string }> {
    const credentials = parseEnvFile(
      readFileSync(join(checkout, ".secrets/credentials.env"), "utf8"),
    );
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: Number(ports.HTTPS_PORT),
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

  return {
    parent,
    stack,
    predict,
    runtimeFolder: runtimeDirectory(checkout, owner?.uid, env),
    async remove() {
      await stack("stop").catch(() => undefined);
      // As root, its processes' storage is outside the checkout (it outlives a stop, not the copy).
      rmSync(stackHome(checkout, owner?.uid), { recursive: true, force: true });
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

async function startServeStop(copy: ReturnType<typeof privateCopy>): Promise<void> {
  expect(statSync(copy.parent).mode & 0o777).toBe(0o700);
  await copy.stack("start");
  expect(await copy.predict()).toEqual({ status: 200, body: '{"prediction value":"love"}' });
  const { stdout } = await copy.stack("stop");
  expect(stdout).toContain("none of its ports is listening");
  expect(existsSync(copy.runtimeFolder), "its runtime folder").toBe(false);
}

describe("a checkout in a private folder", () => {
  const copies: ReturnType<typeof privateCopy>[] = [];

  it(`starts from a 0700 folder as ${asRoot ? "root" : "this user"}, serves a prediction through nginx, and stops with no port left listening and no runtime folder`, async () => {
    const copy = privateCopy(10_000);
    copies.push(copy);
    await startServeStop(copy);
  }, 120_000);

  it.runIf(asRoot)(
    "does the same as an ordinary user (nobody), on unprivileged ports",
    async () => {
      const copy = privateCopy(20_000, nobody);
      copies.push(copy);
      expect(statSync(copy.parent).uid).toBe(nobody.uid);
      await startServeStop(copy);
    },
    120_000,
  );

  it.runIf(asRoot)(
    "refuses to start as an ordinary user on a privileged port, saying which setting to move",
    async () => {
      const copy = privateCopy(20_000, nobody);
      copies.push(copy);
      const refused = await copy.stack("start", { HTTPS_PORT: "444" }).then(
        () => "",
        (error: { stderr: string }) => error.stderr,
      );
      expect(refused).toContain(
        "HTTPS_PORT 444 needs root; as this user, move it: HTTPS_PORT=8444 make start-project",
      );
    },
    120_000,
  );

  afterAll(async () => {
    for (const copy of copies) await copy.remove();
  }, 60_000);
});
