/**
 * The rollout controller, run by supervisord beside the stack as the stack's user: every
 * TICK_MS it reads the rollout from the gateway's Admin entrypoint, the figures from Prometheus
 * (the verdict over windows that follow the step's length, and the rollout alerts), and does what
 * decide.ts says: sets the canary's share, saves the rollout (only over the revision it read, so an
 * operator's pause or abort always wins), and at the top has supervisord run `make promote`'s
 * program (rollout-promote, root's: it builds v1's bundle), then checks every v1 replica serves
 * v2's model and sets the share back to 0. It keeps no state of its own: restarted, it goes on.
 *
 *   node rollout-controller.mjs ADMIN_SOCKET SUPERVISOR_SOCKET PROMETHEUS_PORT V1_OPS_PORT,…
 */
import { setTimeout as sleep } from "node:timers/promises";
import { adminClient, type AdminCall } from "../admin-client.ts";
import { gatherEvidence, prometheusAt, verdictOf, type Query } from "../experiment/evidence.ts";
import { ROLLOUT_ALERTS } from "../experiment/rollout-rules.ts";
import { servedVersion } from "../stack/served-version.ts";
import { callSupervisord, infoField } from "../stack/supervisor-rpc.ts";
import {
  MIN_STEP_SECONDS,
  type Rollout,
  type RolloutStatus,
} from "../../workers/gateway/rollout/rollout-api.ts";
import { decide, type Figures } from "./decide.ts";

const TICK_MS = 1000;
/** The program that promotes (render.ts): `stack.ts promote`, as root. */
export const PROMOTE_PROGRAM = "rollout-promote";
export const CONTROLLER = "rollout-controller";
/** Prometheus needs two scrapes (5 s apart) in a window for a rate: no step is shorter. */
const SHORTEST_WINDOW_S = MIN_STEP_SECONDS;

const windowOf = (ms: number) => `${Math.max(SHORTEST_WINDOW_S, Math.ceil(ms / 1000))}s`;

/** The figures at `now`: v2's canary over the step so far, against v1's stable over the rollout. */
export async function figuresOf(query: Query, rollout: Rollout, now: number): Promise<Figures> {
  const [step, whole] = await Promise.all([
    gatherEvidence(query, windowOf(now - rollout.stepStartedAt)),
    gatherEvidence(query, windowOf(now - rollout.startedAt)),
  ]);
  const firing = (await alertsFiring(query, rollout.startedAt)).filter((name) =>
    ROLLOUT_ALERTS.includes(name),
  );
  // Until the step is a window long, its window holds what came before it: no sample of its own.
  const own = now - rollout.stepStartedAt >= SHORTEST_WINDOW_S * 1000;
  return {
    verdict: verdictOf(whole.stable, step.canary, step.shadow, {
      requests: rollout.plan.minRequests,
      feedback: false,
    }),
    canaryRequests: own ? (step.canary?.requests ?? 0) : 0,
    firing,
  };
}

/**
 * The alerts firing that became pending since `since` (ms), by name: what went wrong during this
 * rollout, not what a share set by hand (or an earlier rollout) did before it. An alert already
 * pending at the start is left to the step's own verdict, which weighs the same figures.
 */
async function alertsFiring(query: Query, since: number): Promise<string[]> {
  const activeSince = await query(`ALERTS_FOR_STATE >= ${since / 1000}`);
  const firing = new Set(
    (await query('ALERTS{alertstate="firing"}')).map((s) => s.metric.alertname!),
  );
  return activeSince.map((s) => s.metric.alertname!).filter((name) => firing.has(name));
}

/** Whether every replica at these ops ports serves `version`. */
async function allServe(opsPorts: number[], version: string): Promise<boolean> {
  return (await Promise.all(opsPorts.map(servedVersion))).every((v) => v === version);
}

/** Runs rollout-promote under supervisord, until it exits: whether it succeeded. */
async function promote(supervisorSocket: string): Promise<boolean> {
  const state = async () =>
    infoField(
      await callSupervisord(supervisorSocket, "supervisor.getProcessInfo", PROMOTE_PROGRAM),
      "statename",
    );
  if ((await state()) !== "RUNNING")
    await callSupervisord(supervisorSocket, "supervisor.startProcess", PROMOTE_PROGRAM);
  for (;;) {
    await sleep(500);
    const info = await callSupervisord(
      supervisorSocket,
      "supervisor.getProcessInfo",
      PROMOTE_PROGRAM,
    );
    const statename = infoField(info, "statename");
    if (statename === "RUNNING" || statename === "STARTING") continue;
    return statename === "EXITED" && infoField(info, "exitstatus") === "0";
  }
}

interface Controller {
  admin: AdminCall;
  query: Query;
  supervisorSocket: string;
  stableOpsPorts: number[];
}

/** Saves the rollout, and the share with it, over the revision read; false when it changed meanwhile. */
async function save(
  admin: AdminCall,
  rollout: Rollout,
  expected: number,
  share?: { percent: number; reason: string },
): Promise<boolean> {
  try {
    await admin("POST", "/rollout/save", { rollout, expected, share });
    return true;
  } catch (error) {
    // Changed meanwhile (an operator's pause or abort): read again at the next tick.
    log({ event: "save_refused", error: String(error) });
    return false;
  }
}

function log(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

async function tick({ admin, query, supervisorSocket, stableOpsPorts }: Controller) {
  const status = (await admin("GET", "/rollout")) as RolloutStatus;
  const rollout = status.rollout;
  if (!rollout) return;
  const share = status.canaryPercent ?? -1;
  if (rollout.phase === "promoting") {
    const promoted =
      (await allServe(stableOpsPorts, rollout.candidateModel)) ||
      ((await promote(supervisorSocket)) &&
        (await allServe(stableOpsPorts, rollout.candidateModel)));
    const reason = promoted
      ? `promoted: v1 serves ${rollout.candidateModel} (was ${rollout.stableModel})`
      : `the promote failed (.state/logs/${PROMOTE_PROGRAM}.log); v1 may serve both models: make rollback`;
    const ended = {
      ...rollout,
      phase: promoted ? "promoted" : "rolled back",
      endedAt: Date.now(),
      reason,
    } as Rollout;
    if (await save(admin, ended, rollout.revision)) {
      await admin("POST", "/rollout/canary", { percent: 0, reason });
      log({ event: ended.phase, reason });
    }
    return;
  }
  if (rollout.phase !== "running") return;
  const now = Date.now();
  const decision = decide(rollout, share, now, await figuresOf(query, rollout, now));
  if (decision.rollout === rollout && !decision.share) return;
  if (await save(admin, decision.rollout, rollout.revision, decision.share))
    log({
      event: "saved",
      phase: decision.rollout.phase,
      reason: decision.rollout.reason,
      share: decision.share,
    });
}

async function main([adminSocket, supervisorSocket, prometheusPort, stablePorts]: string[]) {
  if (!adminSocket || !supervisorSocket || !prometheusPort || !stablePorts)
    throw new Error(
      "usage: rollout-controller ADMIN_SOCKET SUPERVISOR_SOCKET PROMETHEUS_PORT V1_OPS_PORT,…",
    );
  const controller: Controller = {
    admin: adminClient(adminSocket, CONTROLLER),
    query: prometheusAt(Number(prometheusPort)),
    supervisorSocket,
    stableOpsPorts: stablePorts.split(",").map(Number),
  };
  log({ event: "started" });
  for (;;) {
    const started = Date.now();
    try {
      await tick(controller);
    } catch (error) {
      // The gateway restarting, Prometheus not up yet: the next tick tries again.
      log({ event: "tick_failed", error: String(error) });
    }
    await sleep(Math.max(0, started + TICK_MS - Date.now()));
  }
}

if (process.argv[1]?.match(/rollout-controller\.mjs$|controller\.ts$/))
  main(process.argv.slice(2)).catch((error: Error) => {
    log({ event: "fatal", error: error.message });
    process.exit(1);
  });
