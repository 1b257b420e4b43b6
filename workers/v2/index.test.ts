import { workerUnderTest as worker } from "../shared/worker-under-test.ts";
import { describe, expect, it } from "vitest";
import { LABELS } from "../../model/labels.ts";

describe("v2 worker", () => {
  it("adds all 13 probabilities, summing to 1, the model and the replica", async () => {
    const response = await worker.fetch("http://v2/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sentence: "I love this!" }),
    });
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, any>>();
    expect(body["prediction value"]).toBe("love");
    expect(Object.keys(body.prediction_proba_dict).sort()).toEqual([...LABELS].sort());
    const sum = Object.values<number>(body.prediction_proba_dict).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 5);
    expect(body.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(body.model.version).toBe(body.model.sha256.slice(0, 12));
    expect(typeof body.inference_ms).toBe("number");
    expect(body.replica).toBe("v2");
  });
});
