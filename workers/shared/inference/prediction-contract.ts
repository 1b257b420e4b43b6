/**
 * What the gateway and the inference workers agree on about /predict, without a schema library:
 * the variants, the limits, and the inference side's own cheap reading of a body. The gateway
 * validates every request fully (gateway/predict-schema.ts, zod: 415, 413, 400, 422 with each
 * field named); an inference worker only refuses what it cannot classify.
 */
import type { Problem } from "../http/problem.ts";

/** The inference workers: v1 serves production traffic, v2 the "debug" experiment group. */
export const VARIANTS = ["v1", "v2"] as const;
export type Variant = (typeof VARIANTS)[number];

export const MAX_SENTENCE_LENGTH = 5000;
/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The model version that made a prediction, on every prediction the inference workers answer. */
export const MODEL_VERSION_HEADER = "X-Model-Version";
/** The label predicted, for the gateway (its prediction token, its shadow comparison); not passed on. */
export const LABEL_HEADER = "X-Prediction-Label";
/** Sent by the gateway as "plain" for production's body whatever the variant (a canary answer). */
export const PAYLOAD_HEADER = "X-Payload";

/** Production's body, exactly the exam stack's: {"prediction value": label}. */
export const plainPayload = (label: string) => ({ "prediction value": label });

export const BODY_TOO_LARGE: Problem = { status: 413, detail: `the body may be at most ${MAX_BODY_BYTES} bytes` };

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
  return typeof sentence === "string" ? sentence : { status: 422, detail: "sentence must be a string" };
}
