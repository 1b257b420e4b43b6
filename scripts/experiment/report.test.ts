import { describe, expect, it } from "vitest";
import { jsDivergence, verdictOf, wilson, type Arm } from "./evidence.ts";
import { THRESHOLDS } from "./thresholds.ts";

const arm = (over: Partial<Arm>): Arm => ({
  variant: "v1",
  route: "stable",
  model: "a",
  requests: 1000,
  errors: 0,
  p50Ms: 5,
  p99Ms: 20,
  labels: {},
  feedback: 100,
  correct: 40,
  feedbackConsumers: 5,
  ...over,
});
const noShadow = { agree: 0, disagree: 0 };

describe("the experiment report's arithmetic", () => {
  it("gives the Wilson interval: around the proportion, narrower with more trials, within 0-1", () => {
    const [low, high] = wilson(40, 100);
    expect(low).toBeCloseTo(0.3094, 3);
    expect(high).toBeCloseTo(0.498, 3);
    const [low2, high2] = wilson(400, 1000);
    expect(high2 - low2).toBeLessThan(high - low);
    expect(wilson(0, 0)).toEqual([0, 1]);
  });

  it("gives a Jensen-Shannon divergence of 0 for the same distribution and 1 for disjoint ones", () => {
    expect(jsDivergence({ love: 3, hate: 1 }, { love: 30, hate: 10 })).toBeCloseTo(0, 10);
    expect(jsDivergence({ love: 5 }, { hate: 5 })).toBeCloseTo(1, 10);
  });
});

describe("the verdict", () => {
  it("promotes a v2 within every threshold, with enough requests and feedback", () => {
    expect(
      verdictOf(arm({}), arm({ variant: "v2", model: "b" }), { agree: 90, disagree: 10 }).verdict,
    ).toBe("promote");
  });

  it("rolls back a v2 that errs, is slow, disagrees or is less accurate beyond the thresholds", () => {
    const v1 = arm({});
    const v2 = arm({ variant: "v2", model: "b" });
    expect(
      verdictOf(v1, { ...v2, errors: 1000 * (THRESHOLDS.errorRateIncrease + 0.005) }, noShadow)
        .verdict,
    ).toBe("roll back");
    expect(
      verdictOf(v1, { ...v2, p99Ms: v1.p99Ms * (THRESHOLDS.p99Ratio + 0.1) }, noShadow).verdict,
    ).toBe("roll back");
    expect(verdictOf(v1, v2, { agree: 50, disagree: 50 }).verdict).toBe("roll back");
    expect(verdictOf(v1, { ...v2, correct: 30 }, noShadow)).toEqual({
      verdict: "roll back",
      reasons: ["live accuracy 30.0% against v1's 40.0%"],
    });
  });

  it("weighs a p99 only from p99MinRequests requests: of fewer, it is the slowest one or two", () => {
    const slow = { p99Ms: 20 * (THRESHOLDS.p99Ratio + 0.5) };
    expect(
      verdictOf(arm({}), arm({ variant: "v2", route: "canary", requests: 99, ...slow }), noShadow, {
        requests: 20,
        feedback: false,
      }).verdict,
    ).toBe("promote");
    expect(
      verdictOf(arm({}), arm({ variant: "v2", route: "canary", requests: 100, ...slow }), noShadow)
        .verdict,
    ).toBe("roll back");
  });

  it("holds when there is too little to tell", () => {
    expect(verdictOf(arm({}), arm({ variant: "v2", requests: 10 }), noShadow).verdict).toBe("hold");
    expect(
      verdictOf(arm({}), arm({ variant: "v2", feedback: 5, correct: 2 }), noShadow).verdict,
    ).toBe("hold");
    expect(verdictOf(arm({}), undefined, noShadow).verdict).toBe("hold");
  });

  it("weighs live accuracy only when its feedback comes from enough consumers: one consumer's labels neither condemn nor clear v2", async () => {
    const fromOne = arm({ variant: "v2", route: "canary", correct: 0, feedbackConsumers: 1 });
    expect(verdictOf(arm({}), fromOne, noShadow)).toEqual({
      verdict: "hold",
      reasons: [
        `feedback: v1 100 from 5 consumers, v2 100 from 1 (${THRESHOLDS.minFeedback} from ${THRESHOLDS.minFeedbackConsumers} consumers each needed)`,
      ],
    });
    expect(
      verdictOf(
        arm({}),
        { ...fromOne, feedbackConsumers: THRESHOLDS.minFeedbackConsumers },
        noShadow,
      ).verdict,
    ).toBe("roll back");
  });

  it("without the feedback a rollout step may go without, promotes on the requests it needs alone", () => {
    const v2 = arm({
      variant: "v2",
      route: "canary",
      requests: 30,
      feedback: 0,
      feedbackConsumers: 0,
    });
    expect(verdictOf(arm({}), v2, noShadow, { requests: 20, feedback: false }).verdict).toBe(
      "promote",
    );
    expect(verdictOf(arm({}), v2, noShadow, { requests: 50, feedback: false }).verdict).toBe(
      "hold",
    );
  });
});
