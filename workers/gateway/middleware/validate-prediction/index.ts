import type { Hook } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { BODY_TOO_LARGE, MAX_BODY_BYTES } from "../../../shared/inference/prediction-contract.ts";
import { problemResponse, type Problem } from "../../../shared/http/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { invalidInput, mediaTypeProblem } from "../../predict-schema.ts";

function fail(problem: Problem): never {
  throw new HTTPException(problem.status as 400, { res: problemResponse(problem) });
}

const limitBody = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => fail(BODY_TOO_LARGE) });

/**
 * What comes before the schema of a JSON body (/predict's, /feedback's), in the order a client can fix it: 415 for
 * another media type, 413 past 16 KiB (hono's bodyLimit, chunked bodies included), 400 for
 * malformed JSON. The JSON is parsed once, here: the route's schema validator reads it from
 * hono's body cache, and its verdict is `predictionSchemaHook`'s.
 */
export function validatePrediction(): MiddlewareHandler<GatewayEnv> {
  return async function validatePrediction(c, next) {
    const refused = mediaTypeProblem(c.req.header("Content-Type"));
    if (refused) fail(refused);
    await limitBody(c, async () => {
      try {
        await c.req.json();
      } catch {
        fail({ status: 400, detail: "the body is not valid JSON" });
      }
      await next();
    });
  };
}

/**
 * The route's schema verdict (PredictRequest): a 422 problem naming each field, or the valid,
 * trimmed sentence left in the context (unknown fields dropped).
 */
export const predictionSchemaHook: Hook<unknown, GatewayEnv, string, undefined> = (result, c) => {
  if (!result.success) fail(invalidInput(result.error.issues));
  const sentence = result.target === "json" ? (result.data as { sentence?: unknown }).sentence : undefined;
  if (typeof sentence === "string") c.set("sentence", sentence);
};
