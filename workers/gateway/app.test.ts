/** A gateway built from a config of the test's own (createGateway), on the test project's real v1 and v2 workers. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createGateway } from "./app.ts";
import { parseGatewayConfig } from "./config.ts";
import { memoryStore } from "./rate-limiter/limiter-store.ts";
import { basicAuthHeader, freshIp, TEST_PASSWORD, TEST_USER } from "./test-support.ts";

/** A gateway with these vars over the worker's, its rate limit in this isolate's memory. */
function gatewayWith(vars: Record<string, string>) {
  const config = parseGatewayConfig({ ...env, ...vars });
  return createGateway(config, {
    limiterStore: memoryStore(config.rateLimit),
    apiUsers: env.API_USERS,
    feedbackSecret: env.FEEDBACK_SECRET,
  }).app;
}

async function predictOn(app: ReturnType<typeof gatewayWith>): Promise<Response> {
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
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe("createGateway", () => {
  it("routes by the config it is given: CANARY_PERCENT=100 sends ordinary traffic to the candidate, with the stable body", async () => {
    const response = await predictOn(gatewayWith({ CANARY_PERCENT: "100" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Variant")).toBe("v2");
    expect(await response.json()).toEqual({ "prediction value": "love" });
  });

  it("and the worker's own config (CANARY_PERCENT=0) sends it to the stable variant", async () => {
    const response = await predictOn(gatewayWith({}));
    expect(response.headers.get("X-Variant")).toBe("v1");
  });
});
