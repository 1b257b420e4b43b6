import { describe, expect, it } from "vitest";
import { workerUnderTest as gateway } from "../../shared/worker-under-test.ts";
import { postPredict } from "../test-support.ts";

describe("the gateway's other routes", () => {
  it("describes POST /predict in /openapi.json, from the validation schema", async () => {
    const document = await (await gateway.fetch("http://gateway/openapi.json")).json<any>();
    const operation = document.paths["/predict"].post;
    expect(operation.requestBody.content["application/json"].schema.$ref).toBe("#/components/schemas/PredictRequest");
    expect(document.components.schemas.PredictRequest.properties.sentence.maxLength).toBe(5000);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["200", "401", "415", "422", "429"]));
  });

  it("serves /docs as one page with no CDN", async () => {
    const page = await (await gateway.fetch("http://gateway/docs")).text();
    expect(page).toContain("SwaggerUIBundle");
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/);
  });

  it("reports both inference workers on /health, without credentials", async () => {
    const response = await gateway.fetch("http://gateway/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", upstreams: { v1: { ok: true }, v2: { ok: true } } });
  });

  it("answers an unknown path with a 404 problem", async () => {
    for (const path of ["/nope", "/predict/", "/PREDICT"]) {
      const response = await gateway.fetch(`http://gateway${path}`, { method: "POST" });
      expect(response.status).toBe(404);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });

  it("answers another method on /predict with 405 and Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const response = await gateway.fetch("http://gateway/predict", { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("Allow")).toBe("POST");
    }
  });

  it("counts what happened in the Prometheus metrics", async () => {
    const count = (text: string, line: RegExp) => Number(text.match(line)?.[1] ?? 0);
    const ok = /^fortress_requests_total\{variant="v1",status="200"\} (\d+)$/m;
    const unauthorized = /^fortress_auth_failures_total (\d+)$/m;
    const before = await (await gateway.fetch("http://gateway/metrics")).text();
    await postPredict("hello");
    await postPredict("hello", { authorization: null });
    const after = await (await gateway.fetch("http://gateway/metrics")).text();
    expect(count(after, ok) - count(before, ok)).toBe(1);
    expect(count(after, unauthorized) - count(before, unauthorized)).toBe(1);
    expect(after).toMatch(/^# TYPE fortress_request_duration_seconds histogram$/m);
  });
});
