/**
 * POST /feedback: a client says what the right label was for a prediction it got, by that
 * prediction's X-Prediction-Token. Counted once per token (the feedback ledger), per variant,
 * route, model version, whether the model was right and who said so: the live accuracy of each
 * model, from how many voices. Only the consumer the prediction was given to may speak for it, or
 * a key with the feedback scope.
 */
import { createRoute, z, type RouteHandler } from "@hono/zod-openapi";
import type { GatewayEnv } from "../app-context.ts";
import { refuse } from "../refusal.ts";
import type { PredictionClaims, PredictionTokens } from "../feedback/prediction-token.ts";
import type { LedgerEntry, Recorded } from "../feedback/feedback-ledger.ts";
import { withDeadline } from "../../shared/http/with-timeout.ts";
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
      description: "Counted, or counted before with the same label (counted once)",
      content: { "application/json": { schema: z.object({ status: z.literal("accepted") }) } },
    },
    ...chainProblems,
    403: {
      description:
        "The prediction was given to another consumer (and this key has no feedback scope), or the credential may not give feedback",
      content: problemContent,
    },
    409: {
      description: "Feedback on this prediction was already given, with another label",
      content: problemContent,
    },
    422: {
      description: "An unknown label, or a token that is malformed, expired or not ours",
      content: problemContent,
    },
    503: {
      description:
        "The rate limiter or the feedback ledger is unavailable or full; see Retry-After",
      content: problemContent,
    },
  },
});

export interface FeedbackOptions {
  tokens: PredictionTokens;
  /** Where each token's id is counted once (the FeedbackLedger Durable Object). */
  ledger: { record(entry: LedgerEntry, capacity: number): Promise<Recorded> };
  /** FEEDBACK_LEDGER_CAPACITY: the ids the ledger holds at most. */
  capacity: number;
  /** After this, the ledger counts as unreachable: 503, and nothing counted. */
  deadlineMs: number;
  /** Told of each feedback counted: the prediction, whether it was right, who said so. */
  onFeedback?: (prediction: PredictionClaims, correct: boolean, consumer: string) => void;
  /** Told of each feedback not counted, and why. */
  onNotCounted?: (reason: NotCounted) => void;
}

export const NOT_COUNTED = ["repeat", "conflict", "not-yours", "ledger-full"] as const;
export type NotCounted = (typeof NOT_COUNTED)[number];

export function feedback(options: FeedbackOptions): RouteHandler<typeof feedbackRoute, GatewayEnv> {
  const { tokens, ledger, capacity, deadlineMs, onFeedback, onNotCounted } = options;
  return async function feedback(c) {
    const { token, label } = c.req.valid("json");
    const prediction = await tokens.verify(token);
    if ("status" in prediction) refuse(prediction);
    const { consumer, scopes } = c.get("signedIn");
    // The prediction's own consumer, or a labelling team whose key was given the feedback scope.
    if (prediction.sub !== consumer.name && !scopes.includes("feedback")) {
      onNotCounted?.("not-yours");
      refuse({
        status: 403,
        detail:
          "this prediction was given to another consumer: only it, or a key with the feedback scope, may give feedback on it",
      });
    }
    const counted = (recorded: Recorded) => {
      if (recorded.result === "counted")
        onFeedback?.(prediction, prediction.label === label, consumer.name);
    };
    const recording = ledger.record(
      { jti: prediction.jti, label, expiresAt: prediction.exp },
      capacity,
    );
    let recorded: Recorded;
    try {
      recorded = await withDeadline(deadlineMs, recording);
    } catch (error) {
      console.error(JSON.stringify({ event: "feedback_ledger_error", error: String(error) }));
      // The ledger may still count it after the deadline: then so do the metrics (the client's
      // retry will be a repeat).
      try {
        c.executionCtx.waitUntil(recording.then(counted, () => {}));
      } catch {
        // A test's app.request() has no execution context.
      }
      refuse(
        { status: 503, detail: "feedback cannot be counted right now; retry shortly" },
        { "Retry-After": "1" },
      );
    }
    switch (recorded.result) {
      case "counted":
        counted(recorded);
        break;
      case "repeat":
        // The same feedback again (an answer lost on the way): accepted, counted once.
        onNotCounted?.("repeat");
        break;
      case "conflict":
        onNotCounted?.("conflict");
        refuse({
          status: 409,
          detail: `feedback on this prediction was already given, with the label ${recorded.label}`,
        });
        break;
      case "full":
        onNotCounted?.("ledger-full");
        refuse(
          {
            status: 503,
            detail:
              "the feedback ledger is full of unexpired predictions; retry later (FEEDBACK_LEDGER_CAPACITY)",
          },
          { "Retry-After": "60" },
        );
    }
    return c.json({ status: "accepted" as const }, 202);
  };
}
