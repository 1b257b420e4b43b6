/**
 * POST /predict: a validated sentence to the variant its routing picks (routing.ts), through the
 * upstream call (upstream.ts); a share of the stable variant's requests shadowed to the candidate
 * (shadow.ts). Every prediction says which variant (X-Variant) and model version
 * (X-Model-Version) made it, and carries its X-Prediction-Token for feedback.
 */
import { createRoute, z, type RouteHandler } from "@hono/zod-openapi";
import {
  LABEL_HEADER,
  MODEL_VERSION_HEADER,
} from "../../../shared/inference/prediction-contract.ts";
import {
  CANDIDATE,
  MANIFEST,
  VARIANTS,
  type Variant,
  type VariantSpec,
} from "../../../manifest.ts";
import type { PredictionTokens } from "../../feedback/prediction-token.ts";
import {
  chainProblems,
  DebugPrediction,
  PredictRequest,
  Prediction,
  problemContent,
  SIGN_IN_SECURITY,
} from "../../predict-schema.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { EXPERIMENT_HEADER, routeOf, type RoutingOptions } from "./routing.ts";
import type { Shadow } from "./shadow.ts";
import { callVariant, type UpstreamOptions } from "./upstream.ts";

const PREDICTION_TOKEN_HEADER = "X-Prediction-Token";

/** What the experiment groups are, for the API's description. */
const experimentGroups = () =>
  VARIANTS.filter((variant) => (MANIFEST[variant] as VariantSpec).experimentGroup)
    .map(
      (variant) =>
        `"${(MANIFEST[variant] as VariantSpec).experimentGroup}" routes to ${variant} (${MANIFEST[variant].payload === "debug" ? "probabilities and model details" : "its own body"})`,
    )
    .join("; ");

/**
 * POST /predict, declared once: what the app serves (app.ts passes this route, its middleware
 * and handler to app.openapi) and what /openapi.json says, the body's schema included.
 */
export const predictRoute = createRoute({
  method: "post",
  path: "/predict",
  summary: "Classify the emotion of a short text",
  security: SIGN_IN_SECURITY,
  request: {
    headers: z.object({
      [EXPERIMENT_HEADER]: z.string().optional().openapi({ description: experimentGroups() }),
    }),
    body: { required: true, content: { "application/json": { schema: PredictRequest } } },
  },
  responses: {
    200: {
      description:
        "The predicted label, or with an experiment group its variant's body (the debug payload). X-Variant says which variant answered.",
      content: { "application/json": { schema: z.union([Prediction, DebugPrediction]) } },
    },
    ...chainProblems,
    422: {
      description: "The sentence is missing, not a string, empty or too long",
      content: problemContent,
    },
    502: { description: "The model answered with an error of its own", content: problemContent },
    503: {
      description:
        "The model or the rate limiter is unavailable, or no users are configured; see Retry-After",
      content: problemContent,
    },
    504: { description: "The model did not answer in time", content: problemContent },
  },
});

export interface PredictOptions extends RoutingOptions, UpstreamOptions {
  /** Share of the stable variant's requests also sent to the candidate after the answer, 0-100. */
  shadowPercent: number;
  /** Sends those copies (shadow.ts). */
  shadow: Shadow;
  /** Signs each prediction's X-Prediction-Token, for feedback on it. */
  tokens: PredictionTokens;
  /** Told of each upstream failure: unreachable, too slow, or answering 5xx. */
  onUpstreamError?: (variant: Variant) => void;
}

/**
 * The handler of POST /predict. It passes the variant's body on as it streams in, unparsed: its
 * shape is the inference worker's (tested end to end), which TypeScript cannot see in a stream,
 * hence the one cast, on the answer.
 */
export function predict(options: PredictOptions): RouteHandler<typeof predictRoute, GatewayEnv> {
  return async function predict(c) {
    const { sentence } = c.req.valid("json");
    const route = await routeOf(c, options);
    const { variant } = route;
    c.set("variant", variant);
    c.set("route", route.name);
    const call = () => callVariant(c, route, sentence, options);
    // The candidate's own clients come before the shadow copies sent to it.
    const response = await (variant === CANDIDATE ? options.shadow.serving(call) : call());
    // Every 5xx here is the model's side failing: unreachable, slow, or answering with an error.
    if (response.status >= 500) options.onUpstreamError?.(variant);
    // The client's headers are the gateway's to set: only these pass from the inference worker.
    const headers = new Headers({
      "Content-Type": response.headers.get("Content-Type") ?? "application/json",
      "X-Variant": variant,
    });
    for (const name of ["Retry-After", MODEL_VERSION_HEADER]) {
      const value = response.headers.get(name);
      if (value) headers.set(name, value);
    }
    const label = response.headers.get(LABEL_HEADER);
    const model = response.headers.get(MODEL_VERSION_HEADER);
    if (model) c.set("model", model);
    if (response.ok && label && model) {
      const prediction = { rid: c.get("requestId"), variant, route: route.name, model, label };
      headers.set(
        PREDICTION_TOKEN_HEADER,
        await options.tokens.sign(prediction, c.get("signedIn").consumer.name),
      );
      // The token is the client's alone: no cache on the way keeps it.
      headers.set("Cache-Control", "no-store");
      if (
        route.name === "stable" &&
        options.shadowPercent > 0 &&
        Math.random() * 100 < options.shadowPercent
      ) {
        c.executionCtx.waitUntil(options.shadow.copy(c, sentence, label));
      }
    }
    return new Response(response.body, { status: response.status, headers }) as unknown as Awaited<
      ReturnType<RouteHandler<typeof predictRoute, GatewayEnv>>
    >;
  };
}
