/**
 * The rollout of v2's model on the local stack: `npm run rollout -- COMMAND`. It speaks to the
 * gateway's `Admin` entrypoint on its unix socket (the stack's user's and root's alone); every change
 * is logged with who made it and why, and reaches every gateway isolate within 5 s, no restart.
 *
 *   canary PERCENT [--reason TEXT]  the canary's share now, kept across restarts (it wins over
 *                                   CANARY_PERCENT); `canary default` goes back to CANARY_PERCENT
 *   status [--json]                 the share, both versions, the verdict now, the automated
 *                                   rollout if any, and the history of the share with its reasons
 *   start [--wait]                  an automated rollout by the ROLLOUT_* settings (the
 *                                   rollout-controller program steps it); with --wait, returns when
 *                                   it ends: exit 0 when promoted, 1 when rolled back or aborted
 *   pause | resume | abort          hold the share where it is; go on (the step begins anew);
 *                                   stop and set the share to 0
 */
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { adminClient } from "../admin-client.ts";
import { gatherEvidence, prometheusAt, verdictOf } from "../experiment/evidence.ts";
import { CANDIDATE, STABLE, type Variant } from "../../workers/manifest.ts";
import {
  ENDED,
  type Rollout,
  type RolloutStatus,
} from "../../workers/gateway/rollout/rollout-api.ts";
import { loadSettings, workerProcesses } from "../stack/settings.ts";
import { servedVersion } from "../stack/served-version.ts";
import { supervisorctl } from "../stack/supervisor.ts";
import { CONTROLLER, figuresOf } from "./controller.ts";

const USAGE = `usage: npm run rollout -- canary PERCENT|default [--reason TEXT] | status [--json] | start [--wait] | pause | resume | abort`;

const settings = loadSettings();
const admin = adminClient(workerProcesses(settings).find((p) => p.adminSocket)!.adminSocket!);
const query = prometheusAt(settings.prometheusPort);

function fail(message: string, code = 1): never {
  console.error(`rollout: ${message}`);
  process.exit(code);
}

const status = async () => (await admin("GET", "/rollout")) as RolloutStatus;
const setShare = (percent: number | null, reason: string) =>
  admin("POST", "/rollout/canary", { percent, reason });
const time = (at: number) => new Date(at).toISOString();

/**
 * Saves `change` over the rollout as it is now (and the share with it, when given): read again
 * and retried when the controller saved meanwhile, as it may every second.
 */
async function saveOver(
  change: (rollout: Rollout) => Partial<Rollout> | undefined,
  share?: { percent: number; reason: string },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { rollout } = await status();
    const changed = rollout && change(rollout);
    if (!rollout || !changed)
      fail("the rollout is no longer where it was: see npm run rollout -- status");
    try {
      await admin("POST", "/rollout/save", {
        rollout: { ...rollout, ...changed },
        expected: rollout.revision,
        share,
      });
      return;
    } catch (error) {
      if (attempt === 5 || !/changed since it was read/.test(String(error))) throw error;
    }
  }
}

const UNKNOWN = "mixed or unreachable";

/** The model version each variant's processes serve now, by their /health (one version, or "mixed"). */
async function served(variant: Variant): Promise<string> {
  const versions = await Promise.all(
    workerProcesses(settings)
      .filter((p) => p.worker === variant)
      .map((p) => servedVersion(p.opsPort)),
  );
  const distinct = new Set(versions);
  return distinct.size === 1 && !distinct.has(undefined) ? versions[0]! : UNKNOWN;
}

async function printStatus(json: boolean): Promise<void> {
  const now = Date.now();
  const { canaryPercent, rollout, history } = await status();
  const configured = Number(settings.gatewayVars.CANARY_PERCENT);
  const window = `${settings.rollout.stepSeconds}s`;
  let verdict: { verdict: string; reasons: string[] };
  try {
    if (rollout && !ENDED.includes(rollout.phase))
      verdict = (await figuresOf(query, rollout, now)).verdict;
    else {
      const evidence = await gatherEvidence(query, window);
      verdict = verdictOf(evidence.stable, evidence.canary, evidence.shadow, {
        requests: settings.rollout.minRequests,
        feedback: false,
      });
    }
  } catch (error) {
    verdict = { verdict: "unknown", reasons: [`Prometheus: ${(error as Error).message}`] };
  }
  const versions = { [STABLE]: await served(STABLE), [CANDIDATE]: await served(CANDIDATE) };
  if (json) {
    console.log(
      JSON.stringify({
        canaryPercent: canaryPercent ?? configured,
        setAtRunTime: canaryPercent !== null,
        versions,
        verdict,
        rollout,
        history,
      }),
    );
    return;
  }
  console.log(
    `canary share: ${canaryPercent ?? configured}% (${canaryPercent === null ? `CANARY_PERCENT; none set at run time` : "set at run time; wins over CANARY_PERCENT"})`,
  );
  console.log(
    `versions: ${STABLE} serves ${versions[STABLE]}, ${CANDIDATE} serves ${versions[CANDIDATE]}`,
  );
  console.log(`verdict now: ${verdict.verdict.toUpperCase()}: ${verdict.reasons.join("; ")}`);
  if (rollout) {
    console.log(
      `rollout: ${rollout.phase}, steps ${rollout.plan.steps.join(" → ")} % of ${rollout.plan.stepSeconds} s each, started ${time(rollout.startedAt)}${rollout.endedAt ? `, ended ${time(rollout.endedAt)}` : ""}: ${rollout.reason}`,
    );
  }
  console.log("history (newest first):");
  for (const change of history)
    console.log(
      `  ${time(change.at)}  ${`${change.percent ?? "default"}`.padStart(7)}%  ${change.actor}: ${change.reason}`,
    );
}

/** Until the rollout ends: each new reason printed; exit 0 when promoted, 1 otherwise. */
async function waitForEnd(): Promise<never> {
  let said = "";
  for (;;) {
    const { rollout } = await status();
    if (rollout && rollout.reason !== said) {
      console.log(`${time(Date.now())} ${rollout.phase}: ${rollout.reason}`);
      said = rollout.reason;
    }
    if (rollout && ENDED.includes(rollout.phase))
      process.exit(rollout.phase === "promoted" ? 0 : 1);
    await sleep(1000);
  }
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      reason: { type: "string" },
      json: { type: "boolean" },
      wait: { type: "boolean" },
    },
  });
  const [command, argument] = positionals;
  const { rollout } = await status();
  const active = rollout && !ENDED.includes(rollout.phase) ? rollout : undefined;
  switch (command) {
    case "canary": {
      if (argument === undefined) fail(`canary needs a PERCENT (or default)\n${USAGE}`, 2);
      if (active)
        fail(`a rollout is ${active.phase}: pause or abort it first (npm run rollout -- abort)`);
      const percent = argument === "default" ? null : Number(argument);
      if (percent !== null && !(percent >= 0 && percent <= 100))
        fail(`the share is a percentage (0-100) or default, not ${argument}`, 2);
      await setShare(percent, values.reason ?? "set by hand");
      return printStatus(false);
    }
    case "status":
      return printStatus(values.json ?? false);
    case "start": {
      if (active) fail(`a rollout is already ${active.phase} (npm run rollout -- status)`);
      // What the replicas serve: the settings here may not be the ones the stack started with.
      const [stableModel, candidateModel] = [await served(STABLE), await served(CANDIDATE)];
      if ([stableModel, candidateModel].includes(UNKNOWN))
        fail(
          `${STABLE} serves ${stableModel} and ${CANDIDATE} ${candidateModel}: start a rollout on a stack that serves one model a variant (make status)`,
        );
      if (stableModel === candidateModel)
        fail(
          `${STABLE} already serves ${CANDIDATE}'s model, ${stableModel}: there is nothing to roll out`,
        );
      const now = Date.now();
      const plan = settings.rollout;
      const reason = `step 1 of ${plan.steps.length} (${plan.steps[0]}%): started`;
      const next: Rollout = {
        revision: rollout?.revision ?? 0,
        phase: "running",
        plan,
        step: 0,
        stepStartedAt: now,
        startedAt: now,
        endedAt: null,
        reason,
        stableModel,
        candidateModel,
      };
      await admin("POST", "/rollout/save", {
        rollout: next,
        expected: rollout?.revision ?? null,
        share: { percent: plan.steps[0]!, reason },
      });
      console.log(
        `rollout started: ${plan.steps.join(" → ")} % of ${plan.stepSeconds} s each, then ${STABLE} takes ${candidateModel}`,
      );
      let controller: string;
      try {
        controller = supervisorctl("status", CONTROLLER);
      } catch (error) {
        controller = (error as Error).message;
      }
      if (!/\bRUNNING\b/.test(controller))
        console.error(
          `rollout: the ${CONTROLLER} program is not running (${controller.trim() || "no supervisord"}): nothing steps this rollout until it is (make status)`,
        );
      if (values.wait) await waitForEnd();
      return;
    }
    case "pause":
      if (active?.phase !== "running") fail("no rollout is running");
      await saveOver((r) =>
        r.phase === "running"
          ? { phase: "paused", reason: `paused by hand at ${r.reason}` }
          : undefined,
      );
      return printStatus(false);
    case "resume":
      if (active?.phase !== "paused") fail("no rollout is paused");
      await saveOver((r) =>
        r.phase === "paused"
          ? {
              phase: "running",
              stepStartedAt: Date.now(),
              reason: `resumed: ${r.reason.replace(/^paused by hand at /, "")}`,
            }
          : undefined,
      );
      return printStatus(false);
    case "abort": {
      if (!active || active.phase === "promoting")
        fail(
          active ? "the rollout is promoting: it cannot stop half-way" : "no rollout is under way",
        );
      const reason = "aborted by hand";
      await saveOver(
        (r) =>
          r.phase === "running" || r.phase === "paused"
            ? { phase: "aborted", endedAt: Date.now(), reason }
            : undefined,
        { percent: 0, reason },
      );
      return printStatus(false);
    }
    default:
      fail(USAGE, 2);
  }
}

main(process.argv.slice(2)).catch((error: Error) => fail(error.message));
