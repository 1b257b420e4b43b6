/**
 * Shadow traffic: a share of the stable variant's requests (SHADOW_PERCENT) is also sent to the
 * candidate once the client has its answer, and whether the two labels agree is counted.
 */
import { CANDIDATE } from "../../../manifest.ts";
import { LABEL_HEADER } from "../../../shared/inference/prediction-contract.ts";
import type { AppContext } from "../../app-context.ts";
import { callVariant, type UpstreamOptions } from "./upstream.ts";

export type ShadowOutcome = "agree" | "disagree" | "error";

export interface ShadowOptions extends UpstreamOptions {
  /** Told of each comparison. */
  onShadow?: (outcome: ShadowOutcome) => void;
}

/** Sends the sentence to the candidate too, after the client's answer, and says whether the labels agree. */
export async function shadow(
  c: AppContext,
  sentence: string,
  stableLabel: string,
  options: ShadowOptions,
): Promise<void> {
  let outcome: ShadowOutcome = "error";
  try {
    const response = await callVariant(
      c,
      { variant: CANDIDATE, payload: "plain" },
      sentence,
      options,
    );
    await response.body?.cancel();
    const candidateLabel = response.ok ? response.headers.get(LABEL_HEADER) : null;
    if (candidateLabel !== null) outcome = stableLabel === candidateLabel ? "agree" : "disagree";
  } finally {
    options.onShadow?.(outcome);
  }
}
