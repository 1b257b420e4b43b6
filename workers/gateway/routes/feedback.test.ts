/**
 * Feedback through the whole chain, on a gateway of the test's own over the worker's real
 * registry and feedback ledger (Durable Objects) and v1/v2 workers: each token counts once, and
 * only its consumer (or a labelling team's key) may use it.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { registryOf } from "../consumers/registry-store.ts";
import { gatewayWith } from "../test-gateway.ts";
import { basicAuthHeader, freshIp, TEST_PASSWORD, TEST_USER } from "../test-support.ts";
import { opsOfWorkerUnderTest as ops } from "../../shared/testing/worker-under-test.ts";

const registry = registryOf(env.CONSUMERS).registry();
const unique = (what: string) => `${what}-${Math.random().toString(36).slice(2, 8)}`;

/** A consumer of its own, and an API key of it with these scopes. */
async function keyOf(scopes: ("predict" | "feedback")[] = ["predict"], name = unique("team")) {
  await registry.addConsumer("test", { name });
  return `Bearer ${(await registry.issueKey("test", name, scopes)).key}`;
}

/** The tests' consumers, made before the gateway that reads them. */
const TEAMS = 8;
let teams: string[] = [];
let labellers = "";
let carol = { name: unique("carol"), key: "" };
let app: ReturnType<typeof gatewayWith>;
beforeAll(async () => {
  teams = await Promise.all(Array.from({ length: TEAMS }, () => keyOf()));
  labellers = await keyOf(["feedback"]);
  carol = { ...carol, key: await keyOf(["predict"], carol.name) };
  app = gatewayWith();
});

async function post(path: string, authorization: string, body: unknown, headers = {}, on = app) {
  const ctx = createExecutionContext();
  const response = await on.fetch(
    new Request(`http://gateway${path}`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Real-IP": freshIp(),
        Authorization: authorization,
        ...headers,
      },
      body: JSON.stringify(body),
    }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

async function tokenFor(authorization: string, headers: Record<string, string> = {}) {
  const response = await post("/predict", authorization, { sentence: "I love this!" }, headers);
  expect(response.status).toBe(200);
  return response.headers.get("X-Prediction-Token")!;
}

const feedback = (authorization: string, token: string, label: string) =>
  post("/feedback", authorization, { token, label });

/** The gateway's count of feedback so far (its metrics are the isolate's, shared by every app). */
async function counted(): Promise<number> {
  const text = await (await ops.fetch("http://gateway/metrics")).text();
  return [...text.matchAll(/^fortress_feedback_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

describe("feedback on a prediction", () => {
  it("is taken with a 202 on the token of a stable and of a debug prediction", async () => {
    const alice = teams[0]!;
    for (const headers of [{}, { "X-Experiment-Group": "debug" }] as Record<string, string>[]) {
      const response = await feedback(alice, await tokenFor(alice, headers), "love");
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ status: "accepted" });
    }
  });

  it("counts by variant, route, model version, whether the model was right, and who said so", async () => {
    const { name, key } = carol;
    await feedback(key, await tokenFor(key), "worry");
    const text = await (await ops.fetch("http://gateway/metrics")).text();
    expect(text).toMatch(
      new RegExp(
        `^fortress_feedback_total\\{variant="v1",route="stable",model="[0-9a-f]{12}",correct="false",consumer="${name}"\\} 1$`,
        "m",
      ),
    );
  });

  it("counts one token once: sent again with the same label it is a 202 counted once, with another a 409 problem", async () => {
    const key = teams[1]!;
    const token = await tokenFor(key);
    const before = await counted();
    const again = [];
    for (let i = 0; i < 5; i++) again.push((await feedback(key, token, "love")).status);
    expect(again).toEqual([202, 202, 202, 202, 202]);
    const other = await feedback(key, token, "hate");
    expect(other.status).toBe(409);
    expect(other.headers.get("Content-Type")).toBe("application/problem+json");
    expect((await other.json<{ detail: string }>()).detail).toBe(
      "feedback on this prediction was already given, with the label love",
    );
    expect((await counted()) - before).toBe(1);
  });

  it("counts one token once when its copies arrive at the same moment", async () => {
    const key = teams[2]!;
    const token = await tokenFor(key);
    const before = await counted();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => feedback(key, token, "love").then((r) => r.status)),
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    expect((await counted()) - before).toBe(1);
  });

  it("refuses a token given to another consumer with a 403 problem, and counts nothing", async () => {
    const token = await tokenFor(teams[3]!);
    const before = await counted();
    const mallory = teams[4]!;
    const response = await feedback(mallory, token, "love");
    expect(response.status).toBe(403);
    expect((await response.json<{ detail: string }>()).detail).toMatch(
      /^this prediction was given to another consumer/,
    );
    expect(await counted()).toBe(before);
    // The password's consumer is another one too.
    expect((await feedback(basicAuthHeader(TEST_USER, TEST_PASSWORD), token, "love")).status).toBe(
      403,
    );
  });

  it("takes a token given to another consumer from a key with the feedback scope (a labelling team)", async () => {
    const token = await tokenFor(teams[5]!);
    expect((await feedback(labellers, token, "love")).status).toBe(202);
  });

  it("refuses a forged token, an unknown label and a body without a token with a 422 problem", async () => {
    const key = teams[6]!;
    const token = await tokenFor(key);
    const [header, claims, signature] = token.split(".");
    const forged = `${header}.${claims}.${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BB" : "AA"}`;
    for (const body of [
      { token: forged, label: "love" },
      { token, label: "ecstatic" },
      { label: "love" },
    ]) {
      const response = await post("/feedback", key, body);
      expect(response.status).toBe(422);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });

  it("answers 503 with Retry-After, counting nothing, when the ledger is full of unexpired tokens", async () => {
    const key = teams[7]!;
    // One token counted first: then at a capacity of 1 the worker's ledger is full.
    expect((await feedback(key, await tokenFor(key), "love")).status).toBe(202);
    const token = await tokenFor(key);
    const before = await counted();
    const full = gatewayWith({ FEEDBACK_LEDGER_CAPACITY: "1" });
    const response = await post("/feedback", key, { token, label: "love" }, {}, full);
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("60");
    expect(await counted()).toBe(before);
  });

  it("asks for credentials like /predict", async () => {
    const token = await tokenFor(teams[0]!);
    expect((await post("/feedback", "", { token, label: "love" })).status).toBe(401);
  });
});
