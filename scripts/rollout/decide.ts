/**
 * What the rollout controller does at one moment, as a pure function of the rollout, the canary's
 * share, the clock and the figures, so that a test can run a whole rollout on a fake clock with
 * fake figures. Each step holds its share for plan.stepSeconds, then advances on a verdict made on
 * its minimum sample; "not enough data" holds, and past plan.holdSteps step lengths rolls back. A
 * verdict of "roll back" (once the canary has its sample) or a firing rollout alert sets the share
 * to 0 at once, whenever it comes. At the top step's verdict, v1 takes v2's model (`promote`).
 */
import type { Verdict } from "../experiment/evidence.ts";
import type { Rollout } from "../../workers/gateway/rollout/rollout-api.ts";

export interface Figures {
  /** The verdict on v2's canary (the step's window) against v1's stable traffic (the rollout's). */
  verdict: Verdict;
  /** Requests v2's canary answered in the step's window. */
  canaryRequests: number;
  /** The rollout alerts firing in Prometheus. */
  firing: string[];
}

export interface Decision {
  /** The rollout as it is to be saved (the same object when nothing changed). */
  rollout: Rollout;
  /** The canary's share to set, and why. */
  share?: { percent: number; reason: string };
  /** Whether v1 is to take v2's model now. */
  promote?: true;
}

const stepName = (rollout: Rollout) =>
  `step ${rollout.step + 1} of ${rollout.plan.steps.length} (${rollout.plan.steps[rollout.step]}%)`;

export function decide(rollout: Rollout, share: number, now: number, figures: Figures): Decision {
  if (rollout.phase !== "running") return { rollout };
  const { plan } = rollout;
  const target = plan.steps[rollout.step]!;
  const step = stepName(rollout);
  const rollBack = (reason: string): Decision => ({
    rollout: { ...rollout, phase: "rolled back", endedAt: now, reason },
    share: { percent: 0, reason: `rolled back: ${reason}` },
  });
  if (figures.firing.length > 0)
    return rollBack(`${step}: the alert ${figures.firing.join(", ")} is firing`);
  const { verdict } = figures.verdict;
  const reasons = [...figures.verdict.reasons];
  if (verdict === "roll back" && figures.canaryRequests >= plan.minRequests)
    return rollBack(`${step}: ${reasons.join("; ")}`);
  const elapsedMs = now - rollout.stepStartedAt;
  const stepMs = plan.stepSeconds * 1000;
  if (elapsedMs < stepMs)
    return share === target ? { rollout } : { rollout, share: { percent: target, reason: step } };
  // A failed check on fewer requests than the sample is a few unlucky ones: not yet a verdict.
  if (verdict === "hold" || figures.canaryRequests < plan.minRequests) {
    if (verdict !== "hold")
      reasons.push(`on ${figures.canaryRequests} canary requests (${plan.minRequests} needed)`);
    if (elapsedMs >= stepMs * plan.holdSteps)
      return rollBack(
        `${step}: not enough data after ${Math.round(elapsedMs / 1000)} s (${reasons.join("; ")})`,
      );
    const reason = `${step}: holding, not enough data (${reasons.join("; ")})`;
    return reason === rollout.reason ? { rollout } : { rollout: { ...rollout, reason } };
  }
  if (rollout.step === plan.steps.length - 1)
    return {
      rollout: { ...rollout, phase: "promoting", reason: `${step} passed: promoting` },
      promote: true,
    };
  const next = { ...rollout, step: rollout.step + 1, stepStartedAt: now };
  const reason = `${stepName(next)}: ${step} passed (${reasons.join("; ")})`;
  return {
    rollout: { ...next, reason },
    share: { percent: plan.steps[next.step]!, reason },
  };
}
