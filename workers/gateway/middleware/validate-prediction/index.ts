import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { BODY_TOO_LARGE, MAX_BODY_BYTES } from "../../../shared/prediction-contract.ts";
import { mediaTypeProblem, parsePredictionBody } from "../../predict-schema.ts";
import { problemResponse, type Problem } from "../../../shared/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";

function fail(problem: Problem): never {
  throw new HTTPException(problem.status as 400, { res: problemResponse(problem) });
}

const limitBody = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => fail(BODY_TOO_LARGE) });

/**
 * Checks a /predict body (gateway/predict-schema.ts: 415, 413, 400, 422, in the order a client can
 * fix them; hono's bodyLimit enforces the size, chunked bodies included). The valid, trimmed
 * sentence is left in the context; unknown fields are dropped.
 */
export function validatePrediction(): MiddlewareHandler<GatewayEnv> {
  return async function validatePrediction(c, next) {
    const refused = mediaTypeProblem(c.req.header("Content-Type"));
    if (refused) fail(refused);
    await limitBody(c, async () => {
      const input = parsePredictionBody(await c.req.text());
      if ("status" in input) fail(input);
      c.set("sentence", input.sentence);
      await next();
    });
  };
}
