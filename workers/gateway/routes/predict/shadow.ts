/**
 * Shadow traffic: a share of the stable variant's requests (SHADOW_PERCENT) is also sent to the
 * candidate once the client has its answer, and whether the two labels agree is counted. A copy
 * can never hurt anyone: it yields to the candidate's own clients (canary, debug: while one of
 * their requests is in flight on the isolate, a copy is skipped), at most SHADOW_MAX_IN_FLIGHT are
 * in flight (past it a copy is skipped too, counted so), each is abandoned after SHADOW_TIMEOUT_MS,
 * and none is sent again. Measured without the yielding (make bench): at 100% the copies more
 * than doubled the candidate's work, and its debug clients' p99 went from 52 to 181 ms.
 */
import { CANDIDATE } from "../../../manifest.ts";
import {
  LABEL_HEADER,
  MODEL_VERSION_HEADER,
} from "../../../shared/inference/prediction-contract.ts";
import type { AppContext } from "../../app-context.ts";
import { callVariant } from "./upstream.ts";

/** skipped: yielded to the candidate's own clients, or SHADOW_MAX_IN_FLIGHT were in flight. */
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

export interface Shadow {
  /** Sends the sentence to the candidate too, after the client's answer, unless it is to yield. */
  copy(c: AppContext, sentence: string, stableLabel: string): Promise<void>;
  /** Runs a request of the candidate's own clients (canary, debug): copies yield to it meanwhile. */
  serving<T>(call: () => Promise<T>): Promise<T>;
}

export function shadowCopies(options: ShadowOptions): Shadow {
  if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1)
    throw new Error("shadowCopies needs maxInFlight, a whole number of 1 or more");
  let inFlight = 0;
  let clientsInFlight = 0;
  const serving = async <T>(call: () => Promise<T>): Promise<T> => {
    clientsInFlight++;
    try {
      return await call();
    } finally {
      clientsInFlight--;
    }
  };
  const copy = async (c: AppContext, sentence: string, stableLabel: string) => {
    if (inFlight >= options.maxInFlight || clientsInFlight > 0) {
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
  return { copy, serving };
}
