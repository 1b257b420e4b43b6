/** The rollout's state object: the share set at run time with its history, and saves that never cross. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Rollout } from "./rollout-api.ts";
import type { RolloutState } from "./rollout-state.ts";

const freshState = () => env.ROLLOUT.get(env.ROLLOUT.idFromName(`test-${crypto.randomUUID()}`));

const rollout = (over: Partial<Rollout> = {}): Rollout => ({
  revision: 0,
  phase: "running",
  plan: { steps: [5, 100], stepSeconds: 10, minRequests: 5, holdSteps: 3 },
  step: 0,
  stepStartedAt: 0,
  startedAt: 0,
  endedAt: null,
  reason: "started",
  stableModel: "a",
  candidateModel: "b",
  ...over,
});

describe("the rollout's state", () => {
  it("keeps the share set at run time and each change, newest first, with who and why; null goes back to CANARY_PERCENT", async () => {
    await runInDurableObject(freshState(), async (state: RolloutState) => {
      expect(state.canaryPercent()).toBeNull();
      state.setCanary("alice", 5, "step 1", 1000);
      state.setCanary("controller", 0, "error rate 3% against v1's 0%", 2000);
      state.setCanary("alice", null, "back to the configured share", 3000);
      expect(state.status().history).toEqual([
        { at: 3000, actor: "alice", percent: null, reason: "back to the configured share" },
        { at: 2000, actor: "controller", percent: 0, reason: "error rate 3% against v1's 0%" },
        { at: 1000, actor: "alice", percent: 5, reason: "step 1" },
      ]);
      expect(state.canaryPercent()).toBeNull();
      expect(() => state.setCanary("alice", 101, "too much")).toThrow(/percentage/);
    });
  });

  it("saves a rollout, with its share, only over the revision it was read at: a late step never lands after an abort", async () => {
    await runInDurableObject(freshState(), async (state: RolloutState) => {
      expect(state.saveRollout("cli", rollout(), null, { percent: 5, reason: "started" })).toBe(
        true,
      );
      expect(state.rollout()?.revision).toBe(1);
      expect(
        state.saveRollout("alice", rollout({ phase: "aborted" }), 1, {
          percent: 0,
          reason: "aborted",
        }),
      ).toBe(true);
      // The controller read revision 1 and steps up: too late, neither its rollout nor its share lands.
      expect(
        state.saveRollout("controller", rollout({ step: 1 }), 1, {
          percent: 100,
          reason: "step 2",
        }),
      ).toBe(false);
      expect(state.rollout()).toMatchObject({ phase: "aborted", step: 0, revision: 2 });
      expect(state.canaryPercent()).toBe(0);
    });
  });

  it("lets only a running rollout at its top step become promoting", async () => {
    await runInDurableObject(freshState(), async (state: RolloutState) => {
      state.saveRollout("cli", rollout(), null);
      expect(() => state.saveRollout("anyone", rollout({ phase: "promoting" }), 1)).toThrow(
        /top step/,
      );
      state.saveRollout("controller", rollout({ step: 1 }), 1);
      expect(state.saveRollout("controller", rollout({ step: 1, phase: "promoting" }), 2)).toBe(
        true,
      );
    });
  });
});
