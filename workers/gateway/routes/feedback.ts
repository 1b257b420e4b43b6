/**
 * POST /feedback: a client says what the right label was for a prediction it got, by that
 * prediction's X-Prediction-Token. Counted per variant, model version and whether the model was
 * right: the live accuracy of each model. Stateless: the token carries what it is about.
 */
import { createRoute, z, type RouteHandler } from "@hono/zod-openapi";
import type { GatewayEnv } from "../app-context.ts";
import { refuse } from "../refusal.ts";
import type { PredictionClaims, PredictionTokens } from "../feedback/prediction-token.ts";
import { chainProblems, Label, problemContent, SIGN_IN_SECURITY } from "../predict-schema.ts";

export const FeedbackRequest = z
  .object(
    {
      token: z
        .string({ error: "must be the X-Prediction-Token of a prediction" })
        .max(2048, { error: "is too long to be a prediction token" }),
      label: Label,
    },
    { error: "must be a JSON object" },
  )
  .openapi("FeedbackRequest");

export const feedbackRoute = createRoute({
  method: "post",
  path: "/feedback",
  summary: "Say what the right label was for a prediction",
  security: SIGN_IN_SECURITY,
  request: {
    body: { required: true, content: { "application/json": { schema: FeedbackRequest } } },
  },
  responses: {
    202: {
      description: "Counted",
      content: { "application/json": { schema: z.object({ status: z.literal("accepted") }) } },
    },
    ...chainProblems,
    422: {
      description: "An unknown label, or a token that is malformed, expired or not ours",
      content: problemContent,
    },
    503: {
      description: "The rate limiter is unavailable, or no users are configured; see Retry-After",
      content: problemContent,
    },
  },
});

export interface FeedbackOptions {
  tokens: PredictionTokens;
  /** Told of each accepted feedback: the prediction it is about, and whether it was right. */
  onFeedback?: (prediction: PredictionClaims, correct: boolean) => void;
}

export function feedback(options: FeedbackOptions): RouteHandler<typeof feedbackRoute, GatewayEnv> {
  return async function feedback(c) {
    const { token, label } = c.req.valid("json");
    const verified = options.tokens.verify(token, Math.floor(Date.now() / 1000));
    if ("status" in verified) refuse(verified);
    options.onFeedback?.(verified, verified.l === label);
    return c.json({ status: "accepted" as const }, 202);
  };
}
