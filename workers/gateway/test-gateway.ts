/** For tests: a gateway built from a config of the test's own (createGateway), on the test project's real v1 and v2 workers. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createGateway } from "./app.ts";
import { parseGatewayConfig } from "./config.ts";
import { registryOf } from "./consumers/registry-store.ts";
import { ledgerOf } from "./feedback/ledger-store.ts";
import { memoryStore } from "./rate-limiter/limiter-store.ts";
import { basicAuthHeader, freshIp, TEST_PASSWORD, TEST_USER } from "./test-support.ts";

/** A gateway with these vars over the worker's, its rate limit in this isolate's memory, its consumers the test worker's registry. */
export function gatewayWith(vars: Record<string, string> = {}) {
  const config = parseGatewayConfig({ ...env, ...vars });
  return createGateway(config, {
    limiterStore: memoryStore(config.rateLimit),
    registry: registryOf(env.CONSUMERS),
    apiUsers: env.API_USERS,
    feedbackSecret: env.FEEDBACK_SECRET,
    ledger: ledgerOf(env.FEEDBACK_LEDGER),
    canaryPercent: async () => null,
  }).app;
}

/** A signed-in POST /predict from a fresh address, with the worker's bindings or these. */
export async function predictOn(
  app: ReturnType<typeof gatewayWith>,
  bindings: Env = env,
): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request("http://gateway/predict", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Real-IP": freshIp(),
        Authorization: basicAuthHeader(TEST_USER, TEST_PASSWORD),
      },
      body: JSON.stringify({ sentence: "I love this!" }),
    }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}
