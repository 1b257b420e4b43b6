/**
 * The gateway worker: its config and secrets read once, the apps built (app.ts), three
 * entrypoints: the default one serves the public API, `Ops` the ops port's /health and /metrics,
 * `Admin` the consumers' management (admin/app.ts).
 */
import { env, WorkerEntrypoint } from "cloudflare:workers";
import { adminApp } from "./admin/app.ts";
import { createGateway } from "./app.ts";
import { parseGatewayConfig } from "./config.ts";
import { registryOf } from "./consumers/registry-store.ts";
import { ledgerOf } from "./feedback/ledger-store.ts";
import { rolloutOf } from "./rollout/rollout-store.ts";
import { durableObjectStore } from "./rate-limiter/limiter-store.ts";

export { ConsumerRegistry } from "./consumers/consumer-registry.ts";
export { FeedbackLedger } from "./feedback/feedback-ledger.ts";
export { RolloutState } from "./rollout/rollout-state.ts";
export { RateLimiter } from "./rate-limiter/rate-limiter.ts";

const config = parseGatewayConfig(env);
const registry = registryOf(env.CONSUMERS);
const rollout = rolloutOf(env.ROLLOUT);
const { app, ops } = createGateway(config, {
  limiterStore: durableObjectStore(env.RATE_LIMITER, config.rateLimiterShards),
  registry,
  apiUsers: env.API_USERS,
  feedbackSecret: env.FEEDBACK_SECRET,
  ledger: ledgerOf(env.FEEDBACK_LEDGER),
  canaryPercent: () => rollout().canaryPercent(),
});
const admin = adminApp(registry.registry, rollout);

export default app;

export class Admin extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Response | Promise<Response> {
    return admin.fetch(request, this.env, this.ctx);
  }
}

export class Ops extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Response | Promise<Response> {
    return ops.fetch(request, this.env, this.ctx);
  }
}
