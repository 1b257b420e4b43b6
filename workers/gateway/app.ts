/**
 * The gateway's two apps, built from its typed config and its collaborators, so that a test can
 * build one with the config it needs:
 * - the public API that nginx (or Cloudflare's edge) sends traffic to. The chain of each POST route
 *   reads top to bottom: request id, the log line of every refusal (and /predict's metrics), rate
 *   limit per client address, sign-in (an API key, else Basic Auth), the credential's scope, the
 *   consumer's rate limit and daily quota, validation, then the route. It never serves /metrics.
 * - the ops app: /health and /metrics only, for Prometheus and the supervisor.
 * - the admin app: the consumers' management, for the `Admin` entrypoint alone (admin/app.ts).
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
import { clientAddress } from "./client-address.ts";
import {
  consumerDirectory,
  DirectoryUnavailable,
  type RegistryReader,
} from "./consumers/directory.ts";
import { apiKeyAuthentication } from "./middleware/api-key/index.ts";
import { hashBudget } from "./middleware/basic-auth/hash-budget.ts";
import { dailyQuota, type QuotaStore } from "./middleware/daily-quota/index.ts";
import { requireScope } from "./middleware/require-scope/index.ts";
import { docs, OPENAPI_INFO } from "./routes/docs.ts";
import { health } from "./routes/health.ts";
import { predict, predictRoute } from "./routes/predict/index.ts";
import { shadowCopies } from "./routes/predict/shadow.ts";
import { CANDIDATE } from "../manifest.ts";
import { feedback, feedbackRoute, type FeedbackOptions } from "./routes/feedback.ts";
import { predictionTokens } from "./feedback/prediction-token.ts";
import { canaryShare } from "./rollout/canary-share.ts";

export interface GatewayDeps {
  /** Where the rate limits' tokens come from (the RateLimiter Durable Objects). */
  limiterStore: LimiterStore;
  /** The consumers and their daily usage (the ConsumerRegistry Durable Object). */
  registry: RegistryReader & QuotaStore;
  /** The API_USERS secret: one `user:pbkdf2-sha256$…` line a user, each a consumer. */
  apiUsers: string;
  /** The FEEDBACK_SECRET secret: the key of X-Prediction-Token. */
  feedbackSecret: string;
  /** Where each prediction token's feedback is counted once (the FeedbackLedger Durable Object). */
  ledger: FeedbackOptions["ledger"];
  /** The canary's share set at run time, or null (the RolloutState Durable Object). */
  canaryPercent: () => Promise<number | null>;
}

const notFound = (c: { req: { method: string; path: string } }) =>
  problemResponse({ status: 404, detail: `no route for ${c.req.method} ${c.req.path}` });

/** The request's waitUntil, for a read in the background; none in a test's app.request(). */
function waitUntilOf(c: AppContext): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return undefined;
  }
}

/** A /predict answer, or a shadow copy's, in the request metrics. */
function recordPrediction(
  variant: string,
  route: string,
  model: string,
  status: number,
  seconds: number,
): void {
  metrics.requests.inc({ variant, route, model, status: String(status) });
  metrics.duration.observe(seconds, { variant, route, model });
}

export function createGateway(config: GatewayConfig, deps: GatewayDeps) {
  const app = new OpenAPIHono<GatewayEnv>({ strict: true, defaultHook: refuseInvalidBody });

  /**
   * The client's address, as what stands in front says (nginx's X-Real-IP, Cloudflare's
   * CF-Connecting-IP); an IPv6 one by its /64.
   */
  const clientIp = (c: AppContext) =>
    clientAddress(c.req.header(config.clientIpHeader) ?? "unknown");

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
      record({ path, variant, route, model, status, seconds, consumer }) {
        if (consumer !== undefined)
          metrics.consumerRequests.inc({ consumer, path, status: String(status) });
        if (path === "/predict") recordPrediction(variant, route, model, status, seconds);
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
  const failurePolicy = config.rateLimitFailOpen ? "fail-open" : "fail-closed";
  const directory = consumerDirectory({
    registry: deps.registry,
    apiUsers: deps.apiUsers,
    defaults: { rate: config.consumerRateLimit, daily: config.consumerDailyQuota },
    deadlineMs: config.rateLimiterDeadlineMs,
  });
  const viewOf = (c: AppContext) =>
    directory.view(waitUntilOf(c)).catch((error) => {
      if (!(error instanceof DirectoryUnavailable)) throw error;
      throw new HTTPException(503, {
        res: problemResponse(
          { status: 503, detail: "the consumers' registry cannot be read; retry shortly" },
          { "Retry-After": "1" },
        ),
      });
    });
  const consumerOf = (c: AppContext) => c.get("signedIn").consumer;
  /**
   * One chain for both routes, so that a client's budgets and cached credentials are shared: the
   * address's limit, then sign-in (an API key costs one SHA-256; a password, a hash from the
   * budget), then the consumer's own limits.
   */
  const limitAddress = rateLimit({
    store: deps.limiterStore,
    policy: config.rateLimit,
    keyOf: clientIp,
    limiterDeadlineMs: config.rateLimiterDeadlineMs,
    onLimiterError: failurePolicy,
    onRefused: () => metrics.rateLimited.inc(),
  });
  const signIn = [
    apiKeyAuthentication({
      viewOf,
      realm: "fortress",
      onRefused: () => metrics.authFailures.inc(),
      onSignedIn: (holder) => directory.used(holder.keyId),
    }),
    basicAuthentication({
      viewOf,
      addressOf: clientIp,
      budget: hashBudget({
        hashesPerSecond: config.authHashesPerSecond,
        floodAddresses: config.authFloodAddresses,
      }),
      realm: "fortress",
      cacheSeconds: config.authCacheSeconds,
      onRefused: (reason) =>
        (reason === "throttled" ? metrics.authThrottled : metrics.authFailures).inc(),
      onSignedIn: (consumer) => directory.used(`consumer:${consumer.name}`),
    }),
  ];
  const limitConsumer = [
    rateLimit({
      store: deps.limiterStore,
      name: "per-consumer",
      policy: config.consumerRateLimit,
      policyOf: (c) => consumerOf(c).rate,
      keyOf: (c) => `consumer:${consumerOf(c).name}`,
      limiterDeadlineMs: config.rateLimiterDeadlineMs,
      onLimiterError: failurePolicy,
      onRefused: () => metrics.rateLimited.inc(),
    }),
    dailyQuota({
      store: deps.registry,
      quotaOf: (c) => ({ consumer: consumerOf(c).name, daily: consumerOf(c).daily }),
      deadlineMs: config.rateLimiterDeadlineMs,
      onStoreError: failurePolicy,
      onRefused: (consumer) => metrics.consumerQuotaRefused.inc({ consumer }),
      onUsed: (consumer, used) => metrics.consumerDailyUsed.set(used, { consumer }),
    }),
  ];
  const tokens = predictionTokens(deps.feedbackSecret);
  const canary = canaryShare({
    read: deps.canaryPercent,
    configured: config.canaryPercent,
    deadlineMs: config.rateLimiterDeadlineMs,
  });

  app.openapi(
    {
      ...predictRoute,
      middleware: [
        limitAddress,
        ...signIn,
        requireScope("predict"),
        ...limitConsumer,
        validatePrediction(),
      ],
    },
    predict({
      timeoutMs: config.upstreamTimeoutMs,
      canaryPercent: (c) => canary.percent(waitUntilOf(c)),
      shadowPercent: config.shadowPercent,
      shadow: shadowCopies({
        maxInFlight: config.shadowMaxInFlight,
        timeoutMs: config.shadowTimeoutMs,
        onShadow(outcome, answer) {
          metrics.shadowPredictions.inc({ outcome });
          if (answer)
            recordPrediction(CANDIDATE, "shadow", answer.model, answer.status, answer.seconds);
        },
      }),
      clientIpOf: clientIp,
      tokens,
      onResend: (variant) => metrics.upstreamResends.inc({ variant }),
      onUpstreamError: (variant) => metrics.upstreamErrors.inc({ variant }),
    }),
  );
  app.openapi(
    {
      ...feedbackRoute,
      middleware: [
        limitAddress,
        ...signIn,
        requireScope("predict", "feedback"),
        ...limitConsumer,
        validatePrediction(),
      ],
    },
    feedback({
      tokens,
      ledger: deps.ledger,
      capacity: config.feedbackLedgerCapacity,
      deadlineMs: config.rateLimiterDeadlineMs,
      onFeedback: (prediction, correct, consumer) =>
        metrics.feedback.inc({
          variant: prediction.variant,
          route: prediction.route,
          model: prediction.model,
          correct: String(correct),
          consumer,
        }),
      onNotCounted: (reason) => metrics.feedbackNotCounted.inc({ reason }),
    }),
  );

  const healthOfUpstreams = health({ onProbe: () => metrics.healthProbes.inc() });
  app.get("/health", healthOfUpstreams);
  app.openAPIRegistry.registerComponent("securitySchemes", "basicAuth", {
    type: "http",
    scheme: "basic",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "An API key (fek_…), from `npm run consumers -- add NAME`; or in X-API-Key.",
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
