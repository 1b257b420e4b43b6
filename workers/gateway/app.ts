/**
 * The gateway's two apps, built from its typed config and its collaborators, so that a test can
 * build one with the config it needs:
 * - the public API that nginx (or Cloudflare's edge) sends traffic to. The chain of each POST route
 *   reads top to bottom: request id, the log line of every refusal (and /predict's metrics), rate
 *   limit per client IP, Basic Auth, validation, then the route. It never serves /metrics.
 * - the ops app: /health and /metrics only, for Prometheus and the supervisor.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import { problemResponse } from "../shared/http/problem.ts";
import { metricsResponse } from "../shared/http/metrics.ts";
import type { AppContext, GatewayEnv } from "./app-context.ts";
import type { GatewayConfig } from "./config.ts";
import { metrics, registry } from "./gateway-metrics.ts";
import { basicAuthentication } from "./middleware/basic-auth/index.ts";
import { observe } from "./middleware/observe/index.ts";
import { rateLimit } from "./middleware/rate-limit/index.ts";
import { requestId } from "./middleware/request-id/index.ts";
import { refuseInvalidBody, validatePrediction } from "./middleware/validate-prediction/index.ts";
import type { LimiterStore } from "./rate-limiter/limiter-store.ts";
import { docs, OPENAPI_INFO } from "./routes/docs.ts";
import { health } from "./routes/health.ts";
import { predict, predictRoute } from "./routes/predict/index.ts";
import { feedback, feedbackRoute } from "./routes/feedback.ts";
import { predictionTokens } from "./feedback/prediction-token.ts";

export interface GatewayDeps {
  /** Where the rate limit's tokens come from (the RateLimiter Durable Objects). */
  limiterStore: LimiterStore;
  /** The API_USERS secret: one `user:pbkdf2-sha256$…` line a user. */
  apiUsers: string;
  /** The FEEDBACK_SECRET secret: the key of X-Prediction-Token. */
  feedbackSecret: string;
}

const notFound = (c: { req: { method: string; path: string } }) =>
  problemResponse({ status: 404, detail: `no route for ${c.req.method} ${c.req.path}` });

export function createGateway(config: GatewayConfig, deps: GatewayDeps) {
  const app = new OpenAPIHono<GatewayEnv>({ strict: true, defaultHook: refuseInvalidBody });

  /** The client's IP, as what stands in front says (nginx's X-Real-IP, Cloudflare's CF-Connecting-IP). */
  const clientIp = (c: AppContext) => c.req.header(config.clientIpHeader) ?? "unknown";

  app.use(requestId());
  // No answer of the API is to be sniffed as anything but its Content-Type. The rest of hono's set
  // is off: HSTS is the front's (nginx, Cloudflare's edge), /docs sets its own policy (routes/docs.ts),
  // and each header costs every prediction a little.
  app.use(
    secureHeaders({
      xContentTypeOptions: true,
      crossOriginResourcePolicy: false,
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      referrerPolicy: false,
      strictTransportSecurity: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xFrameOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
      removePoweredBy: false,
    }),
  );
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
  // A path served with another method: 405 with Allow, from the routes themselves (hono's middleware).
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        problemResponse(
          {
            status: 405,
            detail: `use ${methods.filter((m) => m !== "HEAD").join(" or ")} ${c.req.path}`,
          },
          { Allow: methods.join(", ") },
        ),
    }),
  );
  /** One limit and one sign-in for both routes: a client's budget and cached credentials are shared. */
  const limitRate = rateLimit({
    store: deps.limiterStore,
    policy: config.rateLimit,
    keyOf: clientIp,
    limiterDeadlineMs: config.rateLimiterDeadlineMs,
    onLimiterError: config.rateLimitFailOpen ? "fail-open" : "fail-closed",
    onRefused: () => metrics.rateLimited.inc(),
  });
  const signIn = basicAuthentication({
    users: deps.apiUsers,
    realm: "fortress",
    cacheSeconds: config.authCacheSeconds,
    hashesPerSecond: config.authHashesPerSecond,
    onRefused: (reason) =>
      (reason === "throttled" ? metrics.authThrottled : metrics.authFailures).inc(),
  });
  const tokens = predictionTokens(deps.feedbackSecret);

  app.openapi(
    { ...predictRoute, middleware: [limitRate, signIn, validatePrediction()] },
    predict({
      timeoutMs: config.upstreamTimeoutMs,
      canaryPercent: config.canaryPercent,
      shadowPercent: config.shadowPercent,
      clientIpOf: clientIp,
      tokens,
      onShadow: (outcome) => metrics.shadowPredictions.inc({ outcome }),
      onResend: (variant) => metrics.upstreamResends.inc({ variant }),
      onUpstreamError: (variant) => metrics.upstreamErrors.inc({ variant }),
    }),
  );
  app.openapi(
    { ...feedbackRoute, middleware: [limitRate, signIn, validatePrediction()] },
    feedback({
      tokens,
      onFeedback: (prediction, correct) =>
        metrics.feedback.inc({
          variant: prediction.v,
          model: prediction.m,
          correct: String(correct),
        }),
    }),
  );

  const healthOfUpstreams = health({ onProbe: () => metrics.healthProbes.inc() });
  app.get("/health", healthOfUpstreams);
  app.openAPIRegistry.registerComponent("securitySchemes", "basicAuth", {
    type: "http",
    scheme: "basic",
  });
  const openApiDocument = app.getOpenAPI31Document({ openapi: "3.1.0", info: OPENAPI_INFO });
  app.get("/openapi.json", (c) => c.json(openApiDocument));
  app.get("/docs", docs);

  app.notFound(notFound);
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    console.error(
      JSON.stringify({
        event: "unhandled_error",
        request_id: c.get("requestId"),
        error: String(error),
      }),
    );
    return problemResponse({
      status: 500,
      detail: "the gateway failed; the request id is in its log",
    });
  });

  // The same health handler, and so the same probe state, as the public /health.
  const ops = new Hono<GatewayEnv>()
    .get("/health", healthOfUpstreams)
    .get("/metrics", () => metricsResponse(registry))
    .notFound(notFound);

  return { app, ops };
}
