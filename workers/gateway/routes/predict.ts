/**
 * POST /predict: forwards a validated sentence to a variant (workers/manifest.ts):
 * - an experiment group (X-Experiment-Group, e.g. "debug") to the variant it names, with its own body;
 * - a client whose assignment key falls in the canary (CANARY_PERCENT) to the candidate (v2), with
 *   the stable variant's body;
 * - everyone else to the stable variant (v1), and a share of those (SHADOW_PERCENT) to the
 *   candidate as well once the client has its answer, to compare the two labels.
 * Every prediction says which variant (X-Variant) and model version (X-Model-Version) made it.
 */
import { createRoute, z, type RouteHandler } from "@hono/zod-openapi";
import { LABEL_HEADER, MODEL_VERSION_HEADER, PAYLOAD_HEADER } from "../../shared/inference/prediction-contract.ts";
import { bindingOf, CANDIDATE, MANIFEST, STABLE, VARIANTS, variantOfGroup, type Variant, type VariantSpec } from "../../manifest.ts";
import type { PredictionTokens } from "../feedback/prediction-token.ts";
import { chainProblems, DebugPrediction, PredictRequest, Prediction, problemContent } from "../predict-schema.ts";
import { PROBLEM_CONTENT_TYPE, problemResponse } from "../../shared/http/problem.ts";
import { REQUEST_ID_HEADER } from "../../shared/http/request-id.ts";
import { withTimeout } from "../../shared/http/with-timeout.ts";
import type { AppContext, GatewayEnv } from "../app-context.ts";
import { ASSIGNMENT_KEY_HEADER, assignmentKey, inCanary } from "./assignment.ts";

export const EXPERIMENT_HEADER = "X-Experiment-Group";

/** What the experiment groups are, for the API's description. */
const experimentGroups = () =>
  VARIANTS.filter((variant) => (MANIFEST[variant] as VariantSpec).experimentGroup)
    .map((variant) => `"${(MANIFEST[variant] as VariantSpec).experimentGroup}" routes to ${variant} (${MANIFEST[variant].payload === "debug" ? "probabilities and model details" : "its own body"})`)
    .join("; ");
/** Sends of one request to an upstream whose connection fails at once (see forward). */
const MAX_ATTEMPTS = 3;
const RESEND_PAUSE_MS = 5;

/** Where a request goes, and in which shape the answer comes back. */
interface Route {
  variant: Variant;
  /** "plain": the stable variant's body whatever the variant (a canary answer). */
  payload: "own" | "plain";
}

export type ShadowOutcome = "agree" | "disagree" | "error";

export interface PredictOptions {
  timeoutMs: number;
  /** Share of ordinary traffic (by assignment key) sent to the candidate, 0-100. */
  canaryPercent: number;
  /** Share of the stable variant's requests also sent to the candidate after the answer, for comparison, 0-100. */
  shadowPercent: number;
  /** The client's address, for the assignment when it sends no key. */
  clientIpOf: (c: AppContext) => string;
  /** Told of each shadow comparison. */
  onShadow?: (outcome: ShadowOutcome) => void;
  /** Signs each prediction's X-Prediction-Token, for feedback on it. */
  tokens: PredictionTokens;
  /** Told when a request is sent to an upstream again after its connection failed at once. */
  onResend?: (variant: Variant) => void;
  /** Told of each upstream failure: unreachable, too slow, or answering 5xx. */
  onUpstreamError?: (variant: Variant) => void;
}

/** An experiment group (any case, surrounding spaces ignored) picks its variant; else the canary decides. */
function routeOf(c: AppContext, options: PredictOptions): Route {
  const asked = variantOfGroup(c.req.header(EXPERIMENT_HEADER));
  if (asked) return { variant: asked, payload: "own" };
  if (options.canaryPercent > 0 && inCanary(assignmentKey(c.req.header(ASSIGNMENT_KEY_HEADER), options.clientIpOf(c)), options.canaryPercent)) {
    return { variant: CANDIDATE, payload: "plain" };
  }
  return { variant: STABLE, payload: "own" };
}

async function forward(c: AppContext, { variant, payload }: Route, { timeoutMs, onResend }: PredictOptions): Promise<Response> {
  const upstream = c.env[bindingOf(variant)];
  const headers: Record<string, string> = { "Content-Type": "application/json", [REQUEST_ID_HEADER]: c.get("requestId") };
  if (payload === "plain") headers[PAYLOAD_HEADER] = "plain";
  const send = (signal: AbortSignal) =>
    upstream.fetch("http://upstream/predict", {
      method: "POST",
      headers,
      body: JSON.stringify({ sentence: c.get("sentence") }),
      signal,
    });
  try {
    return await withTimeout(timeoutMs, async (signal) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await send(signal);
        } catch (error) {
          // Kept-alive connections that the other side closed at that moment (nginx reloading, a
          // replica restarting) fail at once, and the pool may hold several: send again, up to
          // MAX_ATTEMPTS in all. Safe, as a prediction has no side effects; never after a timeout.
          if ((error as Error)?.name === "TimeoutError" || attempt === MAX_ATTEMPTS) throw error;
          onResend?.(variant);
          // The pause lets the runtime notice the other closed connections of its pool and drop
          // them: sent again at once, all three attempts met closed connections (measured).
          await new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS));
        }
      }
    });
  } catch (error) {
    console.error(JSON.stringify({ event: "upstream_error", variant, request_id: c.get("requestId"), error: String(error) }));
    if ((error as Error)?.name === "TimeoutError") {
      return problemResponse({ status: 504, detail: `the ${variant} model did not answer within ${timeoutMs} ms` });
    }
    return problemResponse({ status: 503, detail: `the ${variant} model cannot be reached; retry shortly` }, { "Retry-After": "5" });
  }
}

/**
 * POST /predict, declared once: what the app serves (index.ts passes this route, its middleware
 * and handler to app.openapi) and what /openapi.json says, the body's schema included.
 */
export const predictRoute = createRoute({
  method: "post",
  path: "/predict",
  summary: "Classify the emotion of a short text",
  security: [{ basicAuth: [] }],
  request: {
    headers: z.object({
      [EXPERIMENT_HEADER]: z
        .string()
        .optional()
        .openapi({ description: experimentGroups() }),
    }),
    body: { required: true, content: { "application/json": { schema: PredictRequest } } },
  },
  responses: {
    200: {
      description: "The predicted label, or with an experiment group its variant's body (the debug payload). X-Variant says which variant answered.",
      content: { "application/json": { schema: z.union([Prediction, DebugPrediction]) } },
    },
    ...chainProblems,
    422: { description: "The sentence is missing, not a string, empty or too long", content: problemContent },
    502: { description: "The model answered with an error of its own", content: problemContent },
    503: { description: "The model or the rate limiter is unavailable, or no users are configured; see Retry-After", content: problemContent },
    504: { description: "The model did not answer in time", content: problemContent },
  },
});

/**
 * The handler of POST /predict. It passes the upstream's body on as it streams in: its shape is
 * the inference worker's (tested end to end), which TypeScript cannot see, hence the one cast.
 */
export const PREDICTION_TOKEN_HEADER = "X-Prediction-Token";

export function predict(options: PredictOptions): RouteHandler<typeof predictRoute, GatewayEnv> {
  /** Sends the request to the candidate too, after the client's answer, and counts whether the labels agree. */
  async function shadow(c: AppContext, stableLabel: string | null): Promise<void> {
    let outcome: ShadowOutcome = "error";
    try {
      const response = await forward(c, { variant: CANDIDATE, payload: "plain" }, options);
      await response.body?.cancel();
      const candidateLabel = response.ok ? response.headers.get(LABEL_HEADER) : null;
      if (stableLabel !== null && candidateLabel !== null) outcome = stableLabel === candidateLabel ? "agree" : "disagree";
    } finally {
      options.onShadow?.(outcome);
    }
  }

  async function predict(c: AppContext): Promise<Response> {
    const route = routeOf(c, options);
    const { variant } = route;
    c.set("variant", variant);
    const upstream = await forward(c, route, options);
    // Every 5xx here is the model's side failing: unreachable, slow, or answering with an error.
    if (upstream.status >= 500) options.onUpstreamError?.(variant);
    const response =
      upstream.status >= 500 && upstream.headers.get("Content-Type") !== PROBLEM_CONTENT_TYPE
        ? // Not ours to explain (e.g. nginx's 502 page): say it plainly.
          problemResponse({ status: 502, detail: `the ${variant} model failed (status ${upstream.status})` })
        : upstream;
    // The client's headers are the gateway's to set: only these pass from the inference worker.
    const headers = new Headers({ "Content-Type": response.headers.get("Content-Type") ?? "application/json", "X-Variant": variant });
    for (const name of ["Retry-After", MODEL_VERSION_HEADER]) {
      const value = response.headers.get(name);
      if (value) headers.set(name, value);
    }
    const label = response.headers.get(LABEL_HEADER);
    const model = response.headers.get(MODEL_VERSION_HEADER);
    if (model) c.set("model", model);
    if (response.ok && label && model) {
      const claims = { rid: c.get("requestId"), v: variant, m: model, l: label, iat: Math.floor(Date.now() / 1000) };
      headers.set(PREDICTION_TOKEN_HEADER, options.tokens.sign(claims));
      if (variant === STABLE && options.shadowPercent > 0 && Math.random() * 100 < options.shadowPercent) {
        c.executionCtx.waitUntil(shadow(c, label));
      }
    }
    return new Response(response.body, { status: response.status, headers });
  }
  return predict as unknown as RouteHandler<typeof predictRoute, GatewayEnv>;
}
