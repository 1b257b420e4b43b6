/**
 * When the rate limiter does not answer in time, or fails, the configured policy applies: on a
 * tiny app whose limiter store never answers (or throws), as no real object can be made to.
 */
import { Hono, type Context } from "hono";
import { describe, expect, it } from "vitest";
import type { LimiterStore } from "../../rate-limiter/limiter-store.ts";
import { rateLimit, type RateLimitOptions } from "./index.ts";

const DEADLINE_MS = 200;

const silent: LimiterStore = { acquire: () => new Promise<never>(() => {}) };
const failing: LimiterStore = { acquire: () => Promise.reject(new Error("storage unavailable")) };

function tinyApp(store: LimiterStore, onLimiterError: RateLimitOptions["onLimiterError"]) {
  const app = new Hono().use(
    rateLimit({
      store,
      policy: { ratePerSecond: 10, burst: 5 },
      keyOf: (c: Context) => c.req.header("X-Real-IP") ?? "unknown",
      limiterDeadlineMs: DEADLINE_MS,
      onLimiterError,
    } as RateLimitOptions),
  );
  app.get("/", (c) => c.text("served"));
  return async () => {
    const started = Date.now();
    const response = await app.request("/", { headers: { "X-Real-IP": "192.0.2.1" } });
    return { response, elapsedMs: Date.now() - started };
  };
}

describe("a rate limiter that does not answer", () => {
  it("fails closed by default: a 503 problem with Retry-After once the deadline has passed", async () => {
    const { response, elapsedMs } = await tinyApp(silent, "fail-closed")();
    expect(response.status).toBe(503);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 2000);
  });

  it("fails open when so configured: the request is served once the deadline has passed", async () => {
    const { response, elapsedMs } = await tinyApp(silent, "fail-open")();
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("served");
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS);
  });
});

describe("a rate limiter that fails", () => {
  it("gets the same policy at once: 503 when failing closed, served when failing open", async () => {
    const closed = await tinyApp(failing, "fail-closed")();
    expect(closed.response.status).toBe(503);
    expect(closed.elapsedMs).toBeLessThan(DEADLINE_MS);
    expect((await tinyApp(failing, "fail-open")()).response.status).toBe(200);
  });
});
