/**
 * The rollout's shapes, shared by the RolloutState object, the Admin entrypoint (admin/app.ts),
 * the CLI (`npm run rollout`) and the controller (scripts/rollout/): types only, so Node can
 * import them.
 */

/** A step's least length (ROLLOUT_STEP_SECONDS): its window must hold two of Prometheus's scrapes, 5 s apart. */
export const MIN_STEP_SECONDS = 10;

/** An automated rollout's plan, fixed when it starts. */
export interface Plan {
  /** The canary's share at each step, percent, rising; the last is 100 (then v1 takes v2's model). */
  steps: number[];
  /** How long each step is held before its verdict (ROLLOUT_STEP_SECONDS); the analysis window too. */
  stepSeconds: number;
  /** Requests the canary must have answered in a step's window for a verdict (ROLLOUT_MIN_REQUESTS). */
  minRequests: number;
  /** A step without enough data rolls back after this many step lengths (ROLLOUT_HOLD_STEPS). */
  holdSteps: number;
}

export type Phase = "running" | "paused" | "promoting" | "promoted" | "rolled back" | "aborted";
export const ENDED: readonly Phase[] = ["promoted", "rolled back", "aborted"];

export interface Rollout {
  /** Counts the saves: a save names the revision it read (RolloutState.saveRollout). */
  revision: number;
  phase: Phase;
  plan: Plan;
  /** The step it is at, an index into plan.steps. */
  step: number;
  /** When that step began (ms since the epoch); a resume begins it anew. */
  stepStartedAt: number;
  startedAt: number;
  endedAt: number | null;
  /** Why it is where it is, in words. */
  reason: string;
  /** The model versions at the start: the stable variant's, and the candidate's it promotes. */
  stableModel: string;
  candidateModel: string;
}

export interface ShareChange {
  at: number;
  actor: string;
  /** The share set, or null: back to CANARY_PERCENT. */
  percent: number | null;
  reason: string;
}

export interface RolloutStatus {
  /** The share set at run time, or null: CANARY_PERCENT's. */
  canaryPercent: number | null;
  rollout: Rollout | null;
  /** The share's changes, newest first. */
  history: ShareChange[];
}
