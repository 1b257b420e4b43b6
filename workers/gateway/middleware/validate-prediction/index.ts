import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { MAX_BODY_BYTES, validatePredictInput } from "../../../shared/predict-schema.ts";
import { problemResponse, type Problem } from "../../../shared/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";

function fail(problem: Problem): never {
  throw new HTTPException(problem.status as 400, { res: problemResponse(problem) });
}

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => fail({ status: 413, detail: `the body may be at most ${MAX_BODY_BYTES} bytes` }),
});

/**
 * Checks a /predict body in the order a client can fix it: media type (415), size (413), JSON
 * syntax (400), then the schema (422, naming each field and the reason). The valid, trimmed
 * sentence is left in the context; unknown fields are dropped.
 */
export function validatePrediction(): MiddlewareHandler<GatewayEnv> {
  return async function validatePrediction(c, next) {
    const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (mediaType !== "application/json") {
      fail({ status: 415, detail: "send the body as application/json" });
    }
    await limitBody(c, async () => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        fail({ status: 400, detail: "the body is not valid JSON" });
      }
      const input = validatePredictInput(body);
      if (!input.ok) fail({ status: 422, detail: "the input is invalid", errors: input.errors });
      c.set("sentence", input.sentence);
      await next();
    });
  };
}
