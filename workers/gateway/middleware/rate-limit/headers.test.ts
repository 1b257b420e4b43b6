/** The IETF RateLimit fields: every policy listed, the one closest to refusing in RateLimit. */
import { describe, expect, it } from "vitest";
import { announceLimit, rateLimitHeaders } from "./headers.ts";

describe("RateLimit fields", () => {
  it("lists each policy a request passed, outermost first, and keeps the one with the fewest requests left", () => {
    const headers = new Headers();
    announceLimit(headers, {
      name: "daily",
      quota: 1000,
      windowSeconds: 86400,
      remaining: 990,
      resetSeconds: 5000,
    });
    announceLimit(headers, {
      name: "per-consumer",
      quota: 40,
      windowSeconds: 2,
      remaining: 3,
      resetSeconds: 1,
    });
    announceLimit(headers, {
      name: "per-address",
      quota: 5,
      windowSeconds: 1,
      remaining: 4,
      resetSeconds: 1,
    });
    expect(headers.get("RateLimit-Policy")).toBe(
      '"per-address";q=5;w=1, "per-consumer";q=40;w=2, "daily";q=1000;w=86400',
    );
    expect(headers.get("RateLimit")).toBe('"per-consumer";r=3;t=1');
  });

  it("prefers, of two with as few left, the one that takes longer to refill", () => {
    const headers = new Headers(
      rateLimitHeaders({
        name: "per-consumer",
        quota: 3,
        windowSeconds: 30,
        remaining: 0,
        resetSeconds: 20,
      }),
    );
    announceLimit(headers, {
      name: "per-address",
      quota: 5,
      windowSeconds: 1,
      remaining: 0,
      resetSeconds: 1,
    });
    expect(headers.get("RateLimit")).toBe('"per-consumer";r=0;t=20');
  });
});
