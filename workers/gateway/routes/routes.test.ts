import { describe, expect, it } from "vitest";
import {
  opsOfWorkerUnderTest as ops,
  workerUnderTest as gateway,
} from "../../shared/testing/worker-under-test.ts";
import { freshIp, postPredict } from "../test-support.ts";
import app from "../index.ts";
import { PUBLIC_PATHS, type PublicPath } from "../public-paths.ts";

describe("the gateway's other routes", () => {
  it("has exactly the public paths that nginx lets through (PUBLIC_PATHS), each answering a GET as it should", async () => {
    const routed = new Set(app.routes.map((route) => route.path).filter((path) => path !== "/*"));
    expect([...routed].sort()).toEqual([...PUBLIC_PATHS].sort());
    const expected: Record<PublicPath, number[]> = {
      "/predict": [405],
      "/feedback": [405],
      "/health": [200, 503],
      "/openapi.json": [200],
      "/docs": [200],
    };
    for (const path of PUBLIC_PATHS) {
      expect(expected[path], path).toContain((await gateway.fetch(`http://gateway${path}`)).status);
    }
  });

  it("describes POST /predict in /openapi.json, from the validation schema", async () => {
    const document = await (await gateway.fetch("http://gateway/openapi.json")).json<any>();
    const operation = document.paths["/predict"].post;
    expect(operation.requestBody.content["application/json"].schema.$ref).toBe(
      "#/components/schemas/PredictRequest",
    );
    expect(document.components.schemas.PredictRequest.properties.sentence.maxLength).toBe(5000);
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(["200", "401", "415", "422", "429"]),
    );
  });

  it("documents every status POST /predict answers: each one the chain gives here, and those of its failures", async () => {
    const document = await (await gateway.fetch("http://gateway/openapi.json")).json<any>();
    const documented = Object.keys(document.paths["/predict"].post.responses).map(Number);
    const ip = freshIp();
    const answered = await Promise.all([
      postPredict("I love this!"),
      postPredict(null, { body: "{not json" }),
      postPredict("hi", { authorization: null }),
      postPredict(null, { body: JSON.stringify({ sentence: "a".repeat(17 * 1024) }) }),
      postPredict("hi", { headers: { "Content-Type": "text/plain" } }),
      postPredict(42),
    ]);
    for (let i = 0; i < 6; i++) await postPredict("hi", { ip });
    const limited = await postPredict("hi", { ip });
    const seen = [...answered, limited].map((r) => r.status);
    expect(seen).toEqual([200, 400, 401, 413, 415, 422, 429]);
    // Not to be caused from a test: the gateway failing (500), the model failing (502), unreachable
    // or no users (503), too slow (504).
    expect(documented.sort()).toEqual([...seen, 500, 502, 503, 504].sort());
  });

  it("serves /docs as one page with no CDN", async () => {
    const page = await (await gateway.fetch("http://gateway/docs")).text();
    expect(page).toContain("SwaggerUIBundle");
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/);
  });

  it("serves /docs gzipped to a client that takes gzip, cacheable, and 304 for its ETag", async () => {
    const plain = await (await gateway.fetch("http://gateway/docs")).arrayBuffer();
    const zipped = await gateway.fetch("http://gateway/docs", {
      headers: { "Accept-Encoding": "gzip" },
    });
    expect(zipped.headers.get("Content-Encoding")).toBe("gzip");
    expect(zipped.headers.get("Cache-Control")).toMatch(/^public, max-age=\d+$/);
    const etag = zipped.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    // The runtime's fetch takes the gzip off: the same page, sent in fewer bytes.
    expect(Number(zipped.headers.get("Content-Length"))).toBeLessThan(plain.byteLength / 2);
    expect(new Uint8Array(await zipped.arrayBuffer())).toEqual(new Uint8Array(plain));
    const again = await gateway.fetch("http://gateway/docs", {
      headers: { "If-None-Match": etag! },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("reports both inference workers on /health, without credentials", async () => {
    const response = await gateway.fetch("http://gateway/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "ok",
      upstreams: { v1: { ok: true }, v2: { ok: true } },
    });
  });

  it("answers a burst of /health calls from the upstreams' last probe: at most one probe a second", async () => {
    const probes = /^fortress_health_probes_total (\d+)$/m;
    const count = async () =>
      Number((await (await ops.fetch("http://gateway/metrics")).text()).match(probes)?.[1]);
    await gateway.fetch("http://gateway/health");
    const before = await count();
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => gateway.fetch("http://gateway/health")),
    );
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((await count()) - before).toBeLessThanOrEqual(seconds);
  });

  it("never serves /metrics on the public entrypoint", async () => {
    const response = await gateway.fetch("http://gateway/metrics");
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("answers only /health and /metrics on the Ops entrypoint: POST /predict there is a 404", async () => {
    expect((await ops.fetch("http://gateway/health")).status).toBe(200);
    expect((await ops.fetch("http://gateway/metrics")).status).toBe(200);
    const prediction = await ops.fetch("http://gateway/predict", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Real-IP": "192.0.2.250",
        Authorization: "Basic x",
      },
      body: JSON.stringify({ sentence: "hi" }),
    });
    expect(prediction.status).toBe(404);
    expect(prediction.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("answers an unknown path with a 404 problem", async () => {
    for (const path of ["/nope", "/predict/", "/PREDICT"]) {
      const response = await gateway.fetch(`http://gateway${path}`, { method: "POST" });
      expect(response.status).toBe(404);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });

  it("answers another method on /predict with a 405 problem and Allow: POST, and so on every route by its own methods", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const response = await gateway.fetch("http://gateway/predict", { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("Allow")).toBe("POST");
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
      expect((await response.json<{ detail: string }>()).detail).toBe("use POST /predict");
    }
    for (const path of ["/health", "/docs", "/openapi.json"]) {
      const response = await gateway.fetch(`http://gateway${path}`, { method: "POST" });
      expect([response.status, response.headers.get("Allow")], path).toEqual([405, "GET, HEAD"]);
    }
    expect((await gateway.fetch("http://gateway/feedback")).headers.get("Allow")).toBe("POST");
  });

  it("counts what happened in the Prometheus metrics, each prediction under the route it took (stable, debug)", async () => {
    const count = (text: string, line: RegExp) => Number(text.match(line)?.[1] ?? 0);
    const ok =
      /^fortress_requests_total\{variant="v1",route="stable",model="[0-9a-f]{12}",status="200"\} (\d+)$/m;
    const debug =
      /^fortress_requests_total\{variant="v2",route="debug",model="[0-9a-f]{12}",status="200"\} (\d+)$/m;
    const unauthorized = /^fortress_auth_failures_total (\d+)$/m;
    const before = await (await ops.fetch("http://gateway/metrics")).text();
    const requests = (text: string) =>
      [...text.matchAll(/^fortress_requests_total\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    await postPredict("hello");
    await postPredict("hello", { headers: { "X-Experiment-Group": "debug" } });
    await postPredict("hello", { authorization: null });
    // Not /predict's: none of these is a request it counts.
    await gateway.fetch("http://gateway/health");
    await gateway.fetch("http://gateway/openapi.json");
    await gateway.fetch("http://gateway/nowhere");
    const after = await (await ops.fetch("http://gateway/metrics")).text();
    expect(count(after, ok) - count(before, ok)).toBe(1);
    expect(count(after, debug) - count(before, debug)).toBe(1);
    expect(count(after, unauthorized) - count(before, unauthorized)).toBe(1);
    expect(requests(after) - requests(before)).toBe(3);
    expect(after).toMatch(/^# TYPE fortress_request_duration_seconds histogram$/m);
  });
});
