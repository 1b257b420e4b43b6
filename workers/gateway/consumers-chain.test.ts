/** Consumers through the whole /predict chain: a gateway of the test's own, on the real registry and v1/v2 workers. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registryOf } from "./consumers/registry-store.ts";
import { bucketOf } from "./routes/assignment.ts";
import { gatewayWith } from "./test-gateway.ts";
import { freshIp } from "./test-support.ts";

const registry = registryOf(env.CONSUMERS).registry();

async function keyOf(name: string, limits = {}, scopes?: ("predict" | "feedback")[]) {
  await registry.addConsumer("test", { name, limits });
  return (await registry.issueKey("test", name, scopes)).key;
}

async function predictWith(app: ReturnType<typeof gatewayWith>, key: string) {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request("http://gateway/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Real-IP": freshIp(), "X-API-Key": key },
      body: JSON.stringify({ sentence: "I love this!" }),
    }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const unique = (what: string) => `${what}-${Math.random().toString(36).slice(2, 8)}`;

describe("consumers on /predict", () => {
  it("signs an API key in and holds its consumer to its own rate, whatever the address", async () => {
    const key = await keyOf(unique("team"), { ratePerSecond: 0.1, burst: 2 });
    const app = gatewayWith();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await predictWith(app, key));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(await statuses[2]!.json()).toMatchObject({ "violated-policy": "per-consumer" });
  });

  it("refuses /predict to a key with the feedback scope alone, with a 403 problem", async () => {
    const key = await keyOf(unique("labellers"), {}, ["feedback"]);
    const response = await predictWith(gatewayWith(), key);
    expect(response.status).toBe(403);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("keeps a signed-in consumer on one side of the canary from every address: the assignment is the consumer's", async () => {
    const names = Array.from({ length: 40 }, () => unique("sticky"));
    const inside = names.find((n) => bucketOf(`consumer:${n}`) < 50)!;
    const outside = names.find((n) => bucketOf(`consumer:${n}`) >= 50)!;
    // Both known before the gateway first reads the registry (a later one would take its refresh).
    const keys = { v2: await keyOf(inside), v1: await keyOf(outside) };
    const app = gatewayWith({ CANARY_PERCENT: "50" });
    for (const [variant, key] of Object.entries(keys))
      for (let i = 0; i < 5; i++)
        expect((await predictWith(app, key)).headers.get("X-Variant"), variant).toBe(variant);
  });
});
