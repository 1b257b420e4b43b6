/**
 * `make promote` and `make rollback`: the stable variant (v1) serves another model version without
 * losing a request. The choice is kept in .state/model-selection.env (it survives a stop and
 * start), the stable variant's bundle is built with it, and its replicas restart one at a time,
 * each drained from nginx's pool first: marked `down` and nginx reloaded (its old workers finish
 * what they have in flight), restarted, checked to serve the new version, then put back.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { nativeTopology, renderAll } from "./render.ts";
import { STABLE } from "../../workers/manifest.ts";
import {
  loadSettings,
  MODEL_SELECTION,
  ROOT,
  stableProcesses,
  variantSetting,
  type Settings,
} from "./settings.ts";
import { supervisorctl } from "./supervisor.ts";

/** Long enough for nginx's old workers to finish their requests to a drained replica. */
const DRAIN_MS = 1500;
const READY_TIMEOUT_MS = 30_000;

async function servedVersion(opsPort: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${opsPort}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    return response.ok
      ? ((await response.json()) as { model?: { version?: string } }).model?.version
      : undefined;
  } catch {
    return undefined;
  }
}

function reloadNginx(settings: Settings, drained: string[]): void {
  renderAll(settings, nativeTopology(settings), { drained });
  supervisorctl("signal", "HUP", "nginx");
}

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
  execFileSync(process.execPath, ["--import", "tsx", "scripts/build.ts", STABLE], {
    cwd: ROOT,
    stdio: "inherit",
    env,
  });
  for (const replica of stableProcesses(settings)) {
    reloadNginx(settings, [replica.name]);
    await sleep(DRAIN_MS);
    supervisorctl("restart", replica.name);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while ((await servedVersion(replica.opsPort)) !== version) {
      if (Date.now() > deadline)
        throw new Error(
          `${replica.name} does not serve ${version} after ${READY_TIMEOUT_MS / 1000} s; see .state/logs/${replica.name}.log`,
        );
      await sleep(100);
    }
    reloadNginx(settings, []);
    console.log(`${replica.name} serves ${version}`);
  }
}
