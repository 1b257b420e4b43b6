/**
 * Shadow traffic: a share of the stable variant's requests (SHADOW_PERCENT) is also sent to the
 * candidate once the client has its answer, and whether the two labels agree is counted. A copy
 * can never hurt anyone: at most SHADOW_MAX_IN_FLIGHT are in flight on an isolate (past it a copy
 * is skipped and counted so), each is abandoned after SHADOW_TIMEOUT_MS, and none is sent again,
 * so a slow or hung candidate costs its canary and debug clients a bounded handful of requests.
 */
import { CANDIDATE } from "../../../manifest.ts";
import {
  LABEL_HEADER,
  MODEL_VERSION_HEADER,
} from "../../../shared/inference/prediction-contract.ts";
import type { AppContext } from "../../app-context.ts";
import { callVariant } from "./upstream.ts";

export type ShadowOutcome = "agree" | "disagree" | "error" | "skipped";
export const SHADOW_OUTCOMES: readonly ShadowOutcome[] = ["agree", "disagree", "error", "skipped"];

/** A copy the candidate answered (or failed to), for the request metrics' route="shadow". */
export interface ShadowAnswer {
  model: string;
  status: number;
  seconds: number;
}

export interface ShadowOptions {
  /** Copies in flight at most on this isolate. */
  maxInFlight: number;
  /** How long the candidate may take over a copy. */
  timeoutMs: number;
  /** Told of each copy: its outcome, and the candidate's answer unless it was skipped. */
  onShadow?: (outcome: ShadowOutcome, answer?: ShadowAnswer) => void;
}

export type Shadow = (c: AppContext, sentence: string, stableLabel: string) => Promise<void>;

export function shadowCopies(options: ShadowOptions): Shadow {
  if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1)
    throw new Error("shadowCopies needs maxInFlight, a whole number of 1 or more");
  let inFlight = 0;
  return async function shadow(c, sentence, stableLabel) {
    if (inFlight >= options.maxInFlight) {
      options.onShadow?.("skipped");
      return;
    }
    inFlight++;
    const started = performance.now();
    let outcome: ShadowOutcome = "error";
    let answer: ShadowAnswer | undefined;
    try {
      const response = await callVariant(c, { variant: CANDIDATE, name: "shadow" }, sentence, {
        timeoutMs: options.timeoutMs,
        attempts: 1,
      });
      await response.body?.cancel();
      answer = {
        model: response.headers.get(MODEL_VERSION_HEADER) ?? "none",
        status: response.status,
        seconds: (performance.now() - started) / 1000,
      };
      const candidateLabel = response.ok ? response.headers.get(LABEL_HEADER) : null;
      if (candidateLabel !== null) outcome = stableLabel === candidateLabel ? "agree" : "disagree";
    } finally {
      inFlight--;
      options.onShadow?.(outcome, answer);
    }
  };
}
