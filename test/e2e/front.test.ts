import { describe, expect, it } from "vitest";
import { call, settings } from "./client.ts";

describe("the public front (nginx)", () => {
  it("redirects HTTP to HTTPS with 301, keeping path and query", async () => {
    const reply = await call("/predict?x=1&y=two", {
      httpPort: settings.httpPort,
      headers: { Host: "localhost" },
    });
    expect(reply.status).toBe(301);
    expect(reply.headers.location).toBe(
      `https://localhost:${settings.httpsPort}/predict?x=1&y=two`,
    );
  });

  it("sends HSTS and no version in Server", async () => {
    const reply = await call("/health");
    expect(reply.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
    expect(reply.headers.server).toBe("nginx");
  });

  it("keeps /metrics, stub_status and every other path off the public ports", async () => {
    for (const path of ["/metrics", "/stub_status", "/predict/../metrics", "/v1/predict", "/"]) {
      const reply = await call(path);
      expect(reply.status, path).toBe(404);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
    }
    expect((await call("/metrics", { httpPort: settings.httpPort })).status).toBe(301);
  });

  it("serves /health, /openapi.json and /docs", async () => {
    expect((await call("/health")).json()).toMatchObject({ status: "ok" });
    expect((await call("/openapi.json")).json().paths["/predict"].post).toBeDefined();
    expect((await call("/docs")).body).toContain("SwaggerUIBundle");
  });
});
