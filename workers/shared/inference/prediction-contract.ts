/**
 * What the gateway and the inference workers agree on about /predict, without a schema library:
 * the limits, the bodies, and the inference side's own cheap reading of a body. The gateway
 * validates every request fully (gateway/predict-schema.ts, zod: 415, 413, 400, 422 with each
 * field named); an inference worker only refuses what it cannot classify.
 */
import { LABELS, type Label } from "../../../model/serving/labels.ts";
import type { ModelInfo } from "../../../model/serving/inference.ts";
import type { VariantSpec } from "../../manifest.ts";
import type { Problem } from "../http/problem.ts";

export const MAX_SENTENCE_LENGTH = 5000;
/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The model version that made a prediction, on every prediction the inference workers answer. */
export const MODEL_VERSION_HEADER = "X-Model-Version";
/** The label predicted, for the gateway (its prediction token, its shadow comparison); not passed on. */
export const LABEL_HEADER = "X-Prediction-Label";
/**
 * How a request reached its variant, the `route` label of every request and prediction metric:
 * so that the rollout's evidence compares the stable variant's ordinary traffic with the canary's,
 * and a developer's debug requests or the shadow copies never pass for either.
 * - stable: ordinary traffic, to the stable variant;
 * - canary: ordinary traffic, to the candidate (its assignment key falls in the canary);
 * - debug: a request that asked for a variant (X-Experiment-Group);
 * - shadow: the gateway's copy of a stable request, sent to the candidate after the answer.
 */
export const ROUTES = ["stable", "canary", "debug", "shadow"] as const;
export type RouteName = (typeof ROUTES)[number];
/** Sent by the gateway with every request to a variant: its route, for the variant's metrics. */
export const ROUTE_HEADER = "X-Route";
/** The route a variant counts a request under: the gateway's word, else "direct" (a test's call). */
export const routeOfHeader = (value: string | null): RouteName | "direct" =>
  (ROUTES as readonly string[]).includes(value ?? "") ? (value as RouteName) : "direct";
/** Canary and shadow answers keep production's body whatever the variant. */
export const wantsPlainPayload = (route: RouteName): boolean =>
  route === "canary" || route === "shadow";

/** Production's body, exactly the exam stack's: {"prediction value": label}. */
export const plainPayload = (label: string) => ({ "prediction value": label });

/** What a prediction is made of, for a body to show. */
export interface PredictionContext {
  label: Label;
  probabilities: Float32Array;
  model: ModelInfo;
  inferenceMs: number;
  replica: string;
  /** The request id the gateway sent, so a debug payload can show it arrived. */
  requestId: string;
}

/** Each kind of body a variant answers with (workers/manifest.ts `payload`). */
export const PAYLOADS: Record<VariantSpec["payload"], (prediction: PredictionContext) => object> = {
  plain: ({ label }) => plainPayload(label),
  // The plain body plus every probability, the model's identity and timing.
  debug: ({ label, probabilities, model, inferenceMs, replica, requestId }) => ({
    ...plainPayload(label),
    prediction_proba_dict: Object.fromEntries(LABELS.map((l, i) => [l, probabilities[i]])),
    model: { sha256: model.sha256, version: model.version },
    inference_ms: inferenceMs,
    replica,
    request_id: requestId,
  }),
};

export const BODY_TOO_LARGE: Problem = {
  status: 413,
  detail: `the body may be at most ${MAX_BODY_BYTES} bytes`,
};

const UTF8 = new TextDecoder();

/** The sentence of a body the gateway has validated, or why there is none (size, JSON, type). */
export function sentenceOf(bytes: ArrayBuffer): string | Problem {
  if (bytes.byteLength > MAX_BODY_BYTES) return BODY_TOO_LARGE;
  let body: { sentence?: unknown } | null;
  try {
    body = JSON.parse(UTF8.decode(bytes));
  } catch {
    return { status: 400, detail: "the body is not valid JSON" };
  }
  const sentence = typeof body === "object" ? body?.sentence : undefined;
  return typeof sentence === "string"
    ? sentence
    : { status: 422, detail: "sentence must be a string" };
}
