/**
 * `make promote` and `make rollback`: the stable variant (v1) serves another model version without
 * losing a request, kept-alive clients included. The choice is kept in .state/model-selection.env
 * (it survives a stop and start), the stable variant's bundle is built with it, and its replicas
 * restart one at a time with no reload of nginx: a reload would close the clients' idle kept-alive
 * connections to the front under them (measured: 3-6 of ~3,000 requests lost). The pool drains a
 * replica by itself instead: a request on a replica that stops, or sent to it while it is down,
 * fails at once and nginx's pool sends it to the next replica (proxy_next_upstream, safe for a
 * prediction), leaving the replica out for its fail_timeout. Each replica is checked to serve the
 * new version, and the next restarts only once the pool tries this one again.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { nativeTopology, POOL_FAIL_TIMEOUT_SECONDS, renderAll } from "./render.ts";
import { STABLE } from "../../workers/manifest.ts";
import {
  loadSettings,
  MODEL_SELECTION,
  ROOT,
  stableProcesses,
  variantSetting,
} from "./settings.ts";
import { servedVersion } from "./served-version.ts";
import { supervisorctl } from "./supervisor.ts";

const READY_TIMEOUT_MS = 30_000;

/** Makes the stable variant serve `version`, remembering `before` for a rollback. */
export async function switchStableModel(version: string, before: string): Promise<void> {
  const [model, modelBefore] = [
    variantSetting(STABLE, "MODEL"),
    variantSetting(STABLE, "MODEL_BEFORE"),
  ];
  writeFileSync(
    MODEL_SELECTION,
    `# Written by make promote / make rollback: the model ${STABLE} serves, and the one before.\n${model}=${version}\n${modelBefore}=${before}\n`,
    { mode: 0o600 },
  );
  const env = { ...process.env, [model]: version };
  const settings = loadSettings(env);
  // What the build says goes through this process's console (timed when supervisord runs it).
  const built = execFileSync(process.execPath, ["--import", "tsx", "scripts/build.ts", STABLE], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    env,
  });
  for (const line of built.trim().split("\n")) console.log(line);
  // The new bundle where the replicas read theirs (no process reads the rest again until restarted).
  renderAll(settings, nativeTopology(settings));
  for (const replica of stableProcesses(settings)) {
    supervisorctl("restart", replica.name);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while ((await servedVersion(replica.opsPort)) !== version) {
      if (Date.now() > deadline)
        throw new Error(
          `${replica.name} does not serve ${version} after ${READY_TIMEOUT_MS / 1000} s; see .state/logs/${replica.name}.log`,
        );
      await sleep(100);
    }
    // The pool left the replica out when its requests failed: until it tries it again, the next
    // restart would leave it one replica short, or none.
    await sleep(POOL_FAIL_TIMEOUT_SECONDS * 1000 + 500);
    console.log(`${replica.name} serves ${version}`);
  }
}
