/** POST /predict: forwards a validated sentence to v1, or to v2 for the "debug" experiment group. */
import { createRoute, z, type RouteHandler } from "@hono/zod-openapi";
import type { Variant } from "../../shared/inference/prediction-contract.ts";
import { PredictRequest, V1Prediction, V2Prediction } from "../predict-schema.ts";
import { PROBLEM_CONTENT_TYPE, problemResponse } from "../../shared/http/problem.ts";
import { REQUEST_ID_HEADER } from "../../shared/http/request-id.ts";
import { withTimeout } from "../../shared/http/with-timeout.ts";
import type { AppContext, GatewayEnv } from "../app-context.ts";

export const EXPERIMENT_HEADER = "X-Experiment-Group";
/** Sends of one request to an upstream whose connection fails at once (see forward). */
const MAX_ATTEMPTS = 3;
const RESEND_PAUSE_MS = 5;

/** "debug" (any case, surrounding spaces ignored) selects v2; anything else, or nothing, v1. */
export function chooseVariant(experimentGroup: string | undefined): Variant {
  return experimentGroup?.trim().toLowerCase() === "debug" ? "v2" : "v1";
}

export interface PredictOptions {
  timeoutMs: number;
  /** Told when a request is sent to an upstream again after its connection failed at once. */
  onResend?: (variant: Variant) => void;
  /** Told of each upstream failure: unreachable, too slow, or answering 5xx. */
  onUpstreamError?: (variant: Variant) => void;
}

async function forward(c: AppContext, variant: Variant, { timeoutMs, onResend }: PredictOptions): Promise<Response> {
  const upstream = variant === "v1" ? c.env.V1 : c.env.V2;
  const send = (signal: AbortSignal) =>
    upstream.fetch("http://upstream/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json", [REQUEST_ID_HEADER]: c.get("requestId") },
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

const problemContent = { "application/problem+json": { schema: z.object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string() }) } };

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
      [EXPERIMENT_HEADER]: z.string().optional().openapi({ description: '"debug" routes to v2 (probabilities and model details)' }),
    }),
    body: { required: true, content: { "application/json": { schema: PredictRequest } } },
  },
  responses: {
    200: {
      description: "The predicted label (v1), or the debug payload (v2). X-Variant says which answered.",
      content: { "application/json": { schema: z.union([V1Prediction, V2Prediction]) } },
    },
    400: { description: "The body is not valid JSON", content: problemContent },
    401: { description: "Missing or wrong credentials", content: problemContent },
    413: { description: "The body is larger than 16 KiB", content: problemContent },
    415: { description: "The body is not application/json", content: problemContent },
    422: { description: "The sentence is missing, not a string, empty or too long", content: problemContent },
    429: { description: "Rate limit reached, or too many sign-ins with new credentials at once; see Retry-After", content: problemContent },
    500: { description: "The gateway failed; its log has the request id", content: problemContent },
    502: { description: "The model answered with an error of its own", content: problemContent },
    503: { description: "The model or the rate limiter is unavailable, or no users are configured; see Retry-After", content: problemContent },
    504: { description: "The model did not answer in time", content: problemContent },
  },
});

/**
 * The handler of POST /predict. It passes the upstream's body on as it streams in: its shape is
 * the inference worker's (tested end to end), which TypeScript cannot see, hence the one cast.
 */
export function predict(options: PredictOptions): RouteHandler<typeof predictRoute, GatewayEnv> {
  async function predict(c: AppContext): Promise<Response> {
    const variant = chooseVariant(c.req.header(EXPERIMENT_HEADER));
    c.set("variant", variant);
    const upstream = await forward(c, variant, options);
    // Every 5xx here is the model's side failing: unreachable, slow, or answering with an error.
    if (upstream.status >= 500) options.onUpstreamError?.(variant);
    const response =
      upstream.status >= 500 && upstream.headers.get("Content-Type") !== PROBLEM_CONTENT_TYPE
        ? // Not ours to explain (e.g. nginx's 502 page): say it plainly.
          problemResponse({ status: 502, detail: `the ${variant} model failed (status ${upstream.status})` })
        : upstream;
    const headers = new Headers({ "Content-Type": response.headers.get("Content-Type") ?? "application/json", "X-Variant": variant });
    const retryAfter = response.headers.get("Retry-After");
    if (retryAfter) headers.set("Retry-After", retryAfter);
    return new Response(response.body, { status: response.status, headers });
  }
  return predict as unknown as RouteHandler<typeof predictRoute, GatewayEnv>;
}

