/** The request id on a tiny app: the middleware alone. */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { requestId } from "./index.ts";

const app = new Hono<GatewayEnv>()
  .use(requestId())
  .get("/", (c) => c.text(c.get("requestId")))
  .get("/fails", () => {
    throw new Error("boom");
  })
  .onError(() => new Response("failed", { status: 500 }));

describe("request id", () => {
  it("keeps a sane client id, for the handlers and on the response", async () => {
    const response = await app.request("/", { headers: { "X-Request-Id": "abc.DEF_123-x" } });
    expect(await response.text()).toBe("abc.DEF_123-x");
    expect(response.headers.get("X-Request-Id")).toBe("abc.DEF_123-x");
  });

  it("replaces an id that is too long or has other characters", async () => {
    for (const id of ["a".repeat(129), "has space", "semi;colon"]) {
      const response = await app.request("/", { headers: { "X-Request-Id": id } });
      expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("gives an error response an id too", async () => {
    const response = await app.request("/fails");
    expect(response.status).toBe(500);
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
