/**
 * The gateway worker: wiring only. Two entrypoints:
 * - the default one, the public API that nginx (or Cloudflare's edge) sends traffic to. The
 *   /predict chain reads top to bottom: request id, metrics and log line, rate limit per client
 *   IP, Basic Auth, validation, forward to a variant (workers/manifest.ts). It never serves /metrics.
 * - `Ops`, the ops port's: /health and /metrics only, for Prometheus and the supervisor.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { env, WorkerEntrypoint } from "cloudflare:workers";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../shared/http/problem.ts";
import { metricsResponse } from "../shared/http/metrics.ts";
import type { AppContext, GatewayEnv } from "./app-context.ts";
import { metrics, registry } from "./gateway-metrics.ts";
import { basicAuthentication } from "./middleware/basic-auth/index.ts";
import { observe } from "./middleware/observe/index.ts";
import { rateLimit } from "./middleware/rate-limit/index.ts";
import { requestId } from "./middleware/request-id/index.ts";
import { predictionSchemaHook, validatePrediction } from "./middleware/validate-prediction/index.ts";
import { policyFromVars } from "./rate-limiter/gcra.ts";
import { durableObjectStore } from "./rate-limiter/limiter-store.ts";
import type { RateLimiter } from "./rate-limiter/rate-limiter.ts";
import { docs, OPENAPI_INFO } from "./routes/docs.ts";
import { health } from "./routes/health.ts";
import { percentage } from "./routes/assignment.ts";
import { predict, predictRoute } from "./routes/predict.ts";
import { feedback, feedbackRoute } from "./routes/feedback.ts";
import { predictionTokens } from "./feedback/prediction-token.ts";

export { RateLimiter } from "./rate-limiter/rate-limiter.ts";

const notFound = (c: { req: { method: string; path: string } }) =>
  problemResponse({ status: 404, detail: `no route for ${c.req.method} ${c.req.path}` });

const app = new OpenAPIHono<GatewayEnv>({ strict: true });

/** The client's IP, as what stands in front says (nginx's X-Real-IP, Cloudflare's CF-Connecting-IP). */
const clientIp = (c: AppContext) => c.req.header(env.CLIENT_IP_HEADER) ?? "unknown";

app.use(requestId());
app.use(
  observe({
    // The request metrics are /predict's: health checks and the docs do not drown its figures.
    record({ path, variant, model, status, seconds }) {
      if (path !== "/predict") return;
      metrics.requests.inc({ variant, model, status: String(status) });
      metrics.duration.observe(seconds, { variant, model });
    },
  }),
);
/** One limit and one sign-in for both routes: a client's budget and cached credentials are shared. */
const limitRate = rateLimit({
  // wrangler types cannot see the class behind the binding; it is this worker's RateLimiter.
  store: durableObjectStore(env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>, Number(env.RATE_LIMITER_SHARDS)),
  policy: policyFromVars(env),
  keyOf: clientIp,
  limiterDeadlineMs: Number(env.RATE_LIMITER_DEADLINE_MS),
  onLimiterError: env.RATE_LIMIT_FAIL_OPEN === "true" ? "fail-open" : "fail-closed",
  onRefused: () => metrics.rateLimited.inc(),
});
const signIn = basicAuthentication({
  users: env.API_USERS,
  realm: "fortress",
  cacheSeconds: Number(env.AUTH_CACHE_SECONDS),
  hashesPerSecond: Number(env.AUTH_HASHES_PER_SECOND),
  onRefused: (reason) => (reason === "throttled" ? metrics.authThrottled : metrics.authFailures).inc(),
});
const tokens = predictionTokens(env.FEEDBACK_SECRET);

app.openapi(
  { ...predictRoute, middleware: [limitRate, signIn, validatePrediction()] },
  predict({
    timeoutMs: Number(env.UPSTREAM_TIMEOUT_MS),
    canaryPercent: percentage("CANARY_PERCENT", env.CANARY_PERCENT),
    shadowPercent: percentage("SHADOW_PERCENT", env.SHADOW_PERCENT),
    clientIpOf: clientIp,
    tokens,
    onShadow: (outcome) => metrics.shadowPredictions.inc({ outcome }),
    onResend: (variant) => metrics.upstreamResends.inc({ variant }),
    onUpstreamError: (variant) => metrics.upstreamErrors.inc({ variant }),
  }),
  predictionSchemaHook,
);
app.openapi(
  { ...feedbackRoute, middleware: [limitRate, signIn, validatePrediction()] },
  feedback({
    tokens,
    onFeedback: (prediction, correct) => metrics.feedback.inc({ variant: prediction.v, model: prediction.m, correct: String(correct) }),
  }),
  predictionSchemaHook,
);
app.all("/predict", () => problemResponse({ status: 405, detail: "use POST /predict" }, { Allow: "POST" }));
app.all("/feedback", () => problemResponse({ status: 405, detail: "use POST /feedback" }, { Allow: "POST" }));

const healthOfUpstreams = health({ onProbe: () => metrics.healthProbes.inc() });
app.get("/health", healthOfUpstreams);
app.openAPIRegistry.registerComponent("securitySchemes", "basicAuth", { type: "http", scheme: "basic" });
const openApiDocument = app.getOpenAPI31Document({ openapi: "3.1.0", info: OPENAPI_INFO });
app.get("/openapi.json", (c) => c.json(openApiDocument));
app.get("/docs", docs);

app.notFound(notFound);
app.onError((error, c) => {
  if (error instanceof HTTPException) return error.getResponse();
  console.error(JSON.stringify({ event: "unhandled_error", request_id: c.get("requestId"), error: String(error) }));
  return problemResponse({ status: 500, detail: "the gateway failed; the request id is in its log" });
});

export default app;

const ops = new Hono<GatewayEnv>()
  .get("/health", healthOfUpstreams)
  .get("/metrics", () => metricsResponse(registry))
  .notFound(notFound);

export class Ops extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Response | Promise<Response> {
    return ops.fetch(request, this.env, this.ctx);
  }
}
