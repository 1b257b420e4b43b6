import {
  opsOfWorkerUnderTest as ops,
  workerUnderTest as worker,
} from "../shared/testing/worker-under-test.ts";
import { describe, expect, it } from "vitest";
import { LABELS } from "../../model/serving/labels.ts";

const predict = (headers: Record<string, string>) =>
  worker.fetch("http://v2/predict", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ sentence: "I love this!" }),
  });

describe("v2 worker", () => {
  it("adds all 13 probabilities, summing to 1, the model, the replica and the request id it received", async () => {
    const response = await predict({ "X-Request-Id": "trace-42" });
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, any>>();
    expect(body["prediction value"]).toBe("love");
    expect(Object.keys(body.prediction_proba_dict).sort()).toEqual([...LABELS].sort());
    const sum = Object.values<number>(body.prediction_proba_dict).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 5);
    expect(body.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(body.model.version).toMatch(/^[0-9a-f]{12}$/);
    expect(response.headers.get("X-Model-Version")).toBe(body.model.version);
    expect(typeof body.inference_ms).toBe("number");
    expect(body.replica).toBe("v2");
    expect(body.request_id).toBe("trace-42");
  });
});

describe("v2 as the canary", () => {
  it.each(["canary", "shadow"])(
    "answers exactly production's body to a request the gateway routed as %s, with its model version",
    async (route) => {
      const response = await predict({ "X-Route": route });
      expect(await response.json()).toEqual({ "prediction value": "love" });
      expect(response.headers.get("X-Model-Version")).toMatch(/^[0-9a-f]{12}$/);
    },
  );

  it("counts each prediction under the route the gateway names, and a call without one as direct", async () => {
    const count = async (route: string) =>
      Number(
        new RegExp(
          `^fortress_predictions_total\\{variant="v2",model="[0-9a-f]{12}",route="${route}",label="love"\\} (\\d+)`,
          "m",
        ).exec(await (await ops.fetch("http://v2/metrics")).text())?.[1] ?? 0,
      );
    const before = { canary: await count("canary"), debug: await count("debug") };
    await predict({ "X-Route": "canary" });
    await predict({ "X-Route": "debug" });
    await predict({ "X-Route": "debug" });
    await predict({ "X-Route": "anything" });
    expect({ canary: await count("canary"), debug: await count("debug") }).toEqual({
      canary: before.canary + 1,
      debug: before.debug + 2,
    });
    expect(await count("direct")).toBeGreaterThanOrEqual(1);
  });
});

describe("v2's two entrypoints", () => {
  it("refuses POST /predict on Ops with a 404, and /metrics on the traffic entrypoint", async () => {
    const prediction = await ops.fetch("http://v2/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sentence: "I love this!" }),
    });
    expect(prediction.status).toBe(404);
    expect((await ops.fetch("http://v2/metrics")).status).toBe(200);
    expect((await worker.fetch("http://v2/metrics")).status).toBe(404);
  });
});
