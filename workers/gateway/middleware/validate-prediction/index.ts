import type { Hook } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { BODY_TOO_LARGE, MAX_BODY_BYTES } from "../../../shared/inference/prediction-contract.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { invalidInput, mediaTypeProblem } from "../../predict-schema.ts";
import { refuse as fail } from "../../refusal.ts";

const limitBody = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => fail(BODY_TOO_LARGE) });

/**
 * What comes before the schema of a JSON body (/predict's, /feedback's), in the order a client can fix it: 415 for
 * another media type, 413 past 16 KiB (hono's bodyLimit, chunked bodies included), 400 for
 * malformed JSON. The JSON is parsed once, here: the route's schema validator reads it from
 * hono's body cache, and its verdict is `refuseInvalidBody`'s (the app's defaultHook).
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
 * The verdict of a route's schemas, for every route (the app's defaultHook): a 422 problem naming
 * each field; a valid body is the handler's through c.req.valid.
 */
export const refuseInvalidBody: Hook<unknown, GatewayEnv, string, undefined> = (result) => {
  if (!result.success) fail(invalidInput(result.error.issues));
};
