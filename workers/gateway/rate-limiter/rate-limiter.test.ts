import { env } from "cloudflare:workers";
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "./rate-limiter.ts";

const namespace = env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>;

describe("RateLimiter", () => {
  it("keeps a limited client limited after the object is rebuilt", async () => {
    const id = namespace.idFromName("198.51.100.7");
    const grants = [];
    for (let i = 0; i < 6; i++) grants.push((await namespace.get(id).acquire(1)).granted);
    expect(grants).toEqual([1, 1, 1, 1, 1, 0]);

    await abortAllDurableObjects(); // drops the in-memory state; storage stays

    expect((await namespace.get(id).acquire(1)).granted).toBe(0);
  });
});
