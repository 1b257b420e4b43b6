import {
  opsOfWorkerUnderTest as ops,
  workerUnderTest as worker,
} from "../shared/testing/worker-under-test.ts";
import { describe, expect, it } from "vitest";
import wasmModule from "onnxruntime-web/ort-wasm-simd-threaded.wasm";

const predict = (
  body: unknown,
  headers: Record<string, string> = { "Content-Type": "application/json" },
) =>
  worker.fetch("http://v1/predict", {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("v1 worker", () => {
  it('answers exactly {"prediction value": label}', async () => {
    const response = await predict({ sentence: "I love this!" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ "prediction value": "love" });
  });

  it("ignores unknown fields", async () => {
    const response = await predict({ sentence: "I love this!", extra: [1, 2] });
    expect(await response.json()).toEqual({ "prediction value": "love" });
  });

  it("refuses only what it cannot classify, as problem+json: 400 for a body that is not JSON, 422 for a sentence that is not a string, 413 past 16 KiB", async () => {
    const refusals = await Promise.all([
      predict("{not json"),
      predict({ sentence: 42 }),
      predict(JSON.stringify({ sentence: "a".repeat(17 * 1024) })),
    ]);
    expect(refusals.map((r) => r.status)).toEqual([400, 422, 413]);
    for (const r of refusals)
      expect(r.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("leaves the full validation to the gateway: a blank sentence is classified", async () => {
    expect((await predict({ sentence: "   " })).status).toBe(200);
  });

  it("answers another method on /predict with 405 and Allow: POST", async () => {
    const response = await worker.fetch("http://v1/predict");
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
  });

  it("reports healthy once the model has loaded", async () => {
    const response = await worker.fetch("http://v1/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", variant: "v1" });
  });

  it("counts predictions by label in its metrics, on the Ops entrypoint", async () => {
    await predict({ sentence: "I love this!" });
    const text = await (await ops.fetch("http://v1/metrics")).text();
    const love = text.match(
      /^fortress_predictions_total\{variant="v1",model="[0-9a-f]{12}",route="direct",label="love"\} (\d+)/m,
    );
    expect(Number(love?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(
      /^fortress_model_info\{variant="v1",version="[0-9a-f]{12}",sha256="[0-9a-f]{64}"\} 1/m,
    );
  });

  it("leaves the request id to the gateway: its answer carries no X-Request-Id", async () => {
    const response = await predict(
      { sentence: "hi" },
      { "Content-Type": "application/json", "X-Request-Id": "abc-123" },
    );
    expect(response.headers.get("X-Request-Id")).toBeNull();
  });
});

describe("v1's two entrypoints", () => {
  it("serves /health and /metrics on Ops, and refuses POST /predict there with a 404 problem", async () => {
    expect((await ops.fetch("http://v1/health")).status).toBe(200);
    expect((await ops.fetch("http://v1/metrics")).status).toBe(200);
    const prediction = await ops.fetch("http://v1/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sentence: "I love this!" }),
    });
    expect(prediction.status).toBe(404);
    expect(prediction.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("does not serve /metrics on the traffic entrypoint", async () => {
    const response = await worker.fetch("http://v1/metrics");
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  });
});

describe("workerd", () => {
  // The reason model/ort-wasm-module.ts exists: if this stops failing, the shim may be dropped.
  it("still refuses to compile wasm from bytes at run time", async () => {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    await expect(WebAssembly.instantiate(bytes)).rejects.toThrow(/disallowed/i);
  });

  it("gives the ORT wasm as a precompiled module", () => {
    expect(wasmModule).toBeInstanceOf(WebAssembly.Module);
  });
});
