/**
 * The /predict contract, one zod schema shared by the gateway (validation and the OpenAPI
 * document) and the inference workers (defence in depth). Kept compatible with the exam stack:
 * v1 answers exactly {"prediction value": label}.
 */
import { z } from "@hono/zod-openapi";
import { LABELS } from "../../model/labels.ts";

export const MAX_SENTENCE_LENGTH = 5000;
/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

export const PredictRequest = z
  .object({
    sentence: z
      .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
      .trim()
      .min(1, { error: "must not be empty or only white space" })
      .max(MAX_SENTENCE_LENGTH, { error: `must be at most ${MAX_SENTENCE_LENGTH} characters` })
      .openapi({ example: "I love this!" }),
  })
  .openapi("PredictRequest");

export const Label = z.enum(LABELS).openapi("Label");

export const V1Prediction = z.object({ "prediction value": Label }).openapi("V1Prediction");

export const V2Prediction = z
  .object({
    "prediction value": Label,
    prediction_proba_dict: z.record(Label, z.number()),
    model: z.object({ sha256: z.string(), version: z.string() }),
    inference_ms: z.number(),
    replica: z.string(),
  })
  .openapi("V2Prediction");

export interface InvalidField {
  field: string;
  reason: string;
}

export type ValidatedInput = { ok: true; sentence: string } | { ok: false; errors: InvalidField[] };

/** Validates a parsed JSON body; an error names each field and the reason. */
export function validatePredictInput(body: unknown): ValidatedInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: "(body)", reason: "must be a JSON object" }] };
  }
  const result = PredictRequest.safeParse(body);
  if (result.success) return { ok: true, sentence: result.data.sentence };
  return {
    ok: false,
    errors: result.error.issues.map((issue) => ({ field: issue.path.join(".") || "(body)", reason: issue.message })),
  };
}
