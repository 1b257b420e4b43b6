/**
 * The /predict contract as the gateway validates and documents it: one zod schema for both the
 * checks and the OpenAPI document. Kept compatible with the exam stack: v1 answers exactly
 * {"prediction value": label}. Gateway only: zod stays out of the inference bundles.
 */
import { z } from "@hono/zod-openapi";
import { LABELS } from "../../model/serving/labels.ts";
import { MAX_BODY_BYTES, MAX_SENTENCE_LENGTH } from "../shared/inference/prediction-contract.ts";
import type { Problem } from "../shared/http/problem.ts";

export const PredictRequest = z
  .object(
    {
      sentence: z
        .string({
          error: (issue) => (issue.input === undefined ? "is required" : "must be a string"),
        })
        .trim()
        .min(1, { error: "must not be empty or only white space" })
        .max(MAX_SENTENCE_LENGTH, { error: `must be at most ${MAX_SENTENCE_LENGTH} characters` })
        .openapi({ example: "I love this!" }),
    },
    { error: "must be a JSON object" },
  )
  .openapi("PredictRequest");

export const Label = z.enum(LABELS).openapi("Label");

/** The plain body, the stable variant's and every canary answer's: exactly the exam stack's. */
export const Prediction = z.object({ "prediction value": Label }).openapi("Prediction");

/** The debug body (workers/shared/inference/prediction-contract.ts PAYLOADS). */
export const DebugPrediction = z
  .object({
    "prediction value": Label,
    prediction_proba_dict: z.record(Label, z.number()),
    model: z.object({ sha256: z.string(), version: z.string() }),
    inference_ms: z.number(),
    replica: z.string(),
    /** The request id as v2 received it: the one X-Request-Id carries back to the client. */
    request_id: z.string(),
  })
  .openapi("DebugPrediction");

export interface InvalidField {
  field: string;
  reason: string;
}

/** The problem of a body whose JSON does not fit the schema: a 422 naming each field. */
export function invalidInput(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): Problem {
  const errors: InvalidField[] = issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(body)",
    reason: issue.message,
  }));
  return { status: 422, detail: "the input is invalid", errors };
}

/**
 * The checks of a /predict body before its schema, in the order a client can fix them: media type
 * (415), size (413, checked by the caller, which knows how its body arrives), JSON syntax (400).
 */
export function mediaTypeProblem(contentType: string | null | undefined): Problem | undefined {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return mediaType === "application/json"
    ? undefined
    : { status: 415, detail: "send the body as application/json" };
}

export const problemContent = {
  "application/problem+json": {
    schema: z.object({
      type: z.string(),
      title: z.string(),
      status: z.number(),
      detail: z.string(),
    }),
  },
};

/** What every POST route behind the chain (rate limit, sign-in, JSON body) can refuse with. */
export const chainProblems = {
  400: { description: "The body is not valid JSON", content: problemContent },
  401: { description: "Missing or wrong credentials", content: problemContent },
  413: {
    description: `The body is larger than ${MAX_BODY_BYTES / 1024} KiB`,
    content: problemContent,
  },
  415: { description: "The body is not application/json", content: problemContent },
  429: {
    description:
      "Rate limit reached, or too many sign-ins with new credentials at once; see Retry-After",
    content: problemContent,
  },
  500: { description: "The gateway failed; its log has the request id", content: problemContent },
} as const;

/** Either credential signs a request in (OpenAPI: alternatives are separate requirement objects). */
export const SIGN_IN_SECURITY: Record<string, string[]>[] = [{ apiKey: [] }, { basicAuth: [] }];
