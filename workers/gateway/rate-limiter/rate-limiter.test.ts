import { env } from "cloudflare:workers";
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const namespace = env.RATE_LIMITER;

describe("RateLimiter", () => {
  it("keeps a limited client limited after the object is rebuilt", async () => {
    const shard = () => namespace.get(namespace.idFromName("rebuilt-shard"));
    const grants = [];
    for (let i = 0; i < 6; i++) grants.push((await shard().acquire("198.51.100.7", 1)).granted);
    expect(grants).toEqual([1, 1, 1, 1, 1, 0]);

    await abortAllDurableObjects(); // drops the in-memory state; storage stays

    expect((await shard().acquire("198.51.100.7", 1)).granted).toBe(0);
  });

  it("keeps a separate budget for each client of one shard", async () => {
    const shard = namespace.get(namespace.idFromName("shared-shard"));
    while ((await shard.acquire("198.51.100.8", 1)).granted === 1);
    expect((await shard.acquire("198.51.100.9", 1)).granted).toBe(1);
  });
});
