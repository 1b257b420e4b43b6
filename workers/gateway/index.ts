/**
 * The gateway worker: its config and secrets read once, the apps built (app.ts), two entrypoints:
 * the default one serves the public API, `Ops` the ops port's /health and /metrics.
 */
import { env, WorkerEntrypoint } from "cloudflare:workers";
import { createGateway } from "./app.ts";
import { parseGatewayConfig } from "./config.ts";
import { durableObjectStore } from "./rate-limiter/limiter-store.ts";

export { RateLimiter } from "./rate-limiter/rate-limiter.ts";

const config = parseGatewayConfig(env);
const { app, ops } = createGateway(config, {
  limiterStore: durableObjectStore(env.RATE_LIMITER, config.rateLimiterShards),
  apiUsers: env.API_USERS,
  feedbackSecret: env.FEEDBACK_SECRET,
});

export default app;

export class Ops extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Response | Promise<Response> {
    return ops.fetch(request, this.env, this.ctx);
  }
}
