/** The rollout controller's decisions, over whole rollouts on a fake clock with fake figures. */
import { describe, expect, it } from "vitest";
import type { Rollout } from "../../workers/gateway/rollout/rollout-api.ts";
import { decide, type Figures } from "./decide.ts";

const PLAN = { steps: [5, 10, 25, 50, 100], stepSeconds: 60, minRequests: 20, holdSteps: 3 };
const START = 1_800_000_000_000;

const started = (): Rollout => ({
  revision: 1,
  phase: "running",
  plan: PLAN,
  step: 0,
  stepStartedAt: START,
  startedAt: START,
  endedAt: null,
  reason: "step 1 of 5 (5%): started",
  stableModel: "a",
  candidateModel: "b",
});

const good: Figures = {
  verdict: { verdict: "promote", reasons: ["v2 is within every threshold of v1"] },
  canaryRequests: 100,
  firing: [],
};
const holding: Figures = {
  verdict: { verdict: "hold", reasons: ["v2's canary answered 3 requests (20 needed)"] },
  canaryRequests: 3,
  firing: [],
};

/**
 * The controller's ticks, one a second from the start, each with the figures `at` gives for its
 * moment, until the rollout leaves "running" or `seconds` pass: every share set, and the end.
 */
function run(figuresAt: (secondsIn: number) => Figures, seconds = 3600) {
  let rollout = started();
  let share = 5;
  const shares: { at: number; percent: number; reason: string }[] = [];
  let promote = false;
  for (let t = 0; t <= seconds && rollout.phase === "running"; t++) {
    const decision = decide(rollout, share, START + t * 1000, figuresAt(t));
    rollout = decision.rollout;
    if (decision.share) {
      share = decision.share.percent;
      shares.push({ at: t, ...decision.share });
    }
    promote ||= decision.promote === true;
  }
  return { rollout, shares, promote };
}

describe("an automated rollout", () => {
  it("steps a good candidate through 5, 10, 25, 50 and 100 %, each held its step length, then promotes", () => {
    const { rollout, shares, promote } = run(() => good);
    expect(shares.map((s) => [s.at, s.percent])).toEqual([
      [60, 10],
      [120, 25],
      [180, 50],
      [240, 100],
    ]);
    expect(shares[0]!.reason).toBe(
      "step 2 of 5 (10%): step 1 of 5 (5%) passed (v2 is within every threshold of v1)",
    );
    expect(rollout).toMatchObject({ phase: "promoting", step: 4 });
    expect(promote).toBe(true);
  });

  it("holds a step without its minimum sample, and rolls back once it has held three step lengths", () => {
    const { rollout, shares } = run(() => holding);
    expect(shares).toEqual([
      {
        at: 180,
        percent: 0,
        reason:
          "rolled back: step 1 of 5 (5%): not enough data after 180 s (v2's canary answered 3 requests (20 needed))",
      },
    ]);
    expect(rollout).toMatchObject({ phase: "rolled back", endedAt: START + 180_000 });
  });

  it("goes on once a holding step gets its sample", () => {
    const { shares } = run((t) => (t < 100 ? holding : good), 130);
    expect(shares.map((s) => [s.at, s.percent])).toEqual([[100, 10]]);
  });

  it("sets the share to 0 at once when a check fails mid-step, with the canary's sample", () => {
    const failing: Figures = {
      verdict: { verdict: "roll back", reasons: ["error rate 12.0% against v1's 0.0%"] },
      canaryRequests: 25,
      firing: [],
    };
    const { rollout, shares } = run((t) => (t < 130 ? good : failing));
    expect(shares.at(-1)).toEqual({
      at: 130,
      percent: 0,
      reason: "rolled back: step 3 of 5 (25%): error rate 12.0% against v1's 0.0%",
    });
    expect(rollout.phase).toBe("rolled back");
  });

  it("does not roll back on a failing check below the canary's sample (a few unlucky requests): it holds for it", () => {
    const unlucky: Figures = {
      verdict: { verdict: "roll back", reasons: ["p99 90 ms against v1's 20 ms"] },
      canaryRequests: 4,
      firing: [],
    };
    const { shares } = run((t) => (t < 30 ? unlucky : good), 70);
    expect(shares.map((s) => [s.at, s.percent])).toEqual([[60, 10]]);
    // Short of its sample to the deadline, the step rolls back for want of data.
    expect(run(() => unlucky).shares).toEqual([
      {
        at: 180,
        percent: 0,
        reason:
          "rolled back: step 1 of 5 (5%): not enough data after 180 s (p99 90 ms against v1's 20 ms; on 4 canary requests (20 needed))",
      },
    ]);
  });

  it("rolls back at once when a rollout alert fires, whatever the verdict", () => {
    const { rollout, shares } = run((t) =>
      t < 200 ? good : { ...good, firing: ["CandidateErrorRateAboveProduction"] },
    );
    expect(shares.at(-1)).toEqual({
      at: 200,
      percent: 0,
      reason:
        "rolled back: step 4 of 5 (50%): the alert CandidateErrorRateAboveProduction is firing",
    });
    expect(rollout.phase).toBe("rolled back");
  });

  it("sets its step's share again when the share is not it (set by hand, or lost), and does nothing while paused", () => {
    expect(decide(started(), 30, START + 1000, good).share).toEqual({
      percent: 5,
      reason: "step 1 of 5 (5%)",
    });
    const paused = { ...started(), phase: "paused" as const };
    expect(decide(paused, 30, START + 3_600_000, good)).toEqual({ rollout: paused });
  });
});
