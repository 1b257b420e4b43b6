import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "./rate-limiter.ts";

const namespace = env.RATE_LIMITER;
const RATE_PER_SECOND = Number(env.RATE_LIMIT_RPS);
const BURST = Number(env.RATE_LIMIT_BURST);

const stored = (stub: DurableObjectStub<RateLimiter>) =>
  runInDurableObject(stub, async (_, state) => ({
    keys: [...(await state.storage.list()).keys()],
    alarm: await state.storage.getAlarm(),
  }));

describe("RateLimiter storage", () => {
  it("stores nothing for clients within their budget, however many", async () => {
    const stub = namespace.get(namespace.idFromName("many-clients"));
    for (let i = 0; i < 300; i++)
      expect((await stub.acquire(`198.51.${i >> 8}.${i & 255}`, 1)).granted).toBe(1);
    expect(await stored(stub)).toEqual({ keys: [], alarm: null });
  });

  it("stores a limited client's TAT with an alarm, which deletes it once that client's budget is full again", async () => {
    const stub = namespace.get(namespace.idFromName("limited-client"));
    const client = "198.51.100.21";
    while ((await stub.acquire(client, 1)).granted === 1);
    await stub.acquire("198.51.100.22", 1); // another client of the shard, within its budget
    const limited = await stored(stub);
    expect(limited.keys).toEqual([client]);
    expect(limited.alarm).toBeGreaterThan(Date.now());

    // Too early: the budget is not full yet, so the alarm only moves on.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stored(stub)).keys).toEqual([client]);

    const fullAgainInMs = (await stored(stub)).alarm! - Date.now();
    expect(fullAgainInMs).toBeLessThanOrEqual((BURST * 1000) / RATE_PER_SECOND);
    await new Promise((resolve) => setTimeout(resolve, fullAgainInMs + 50));
    await runDurableObjectAlarm(stub); // unless it has fired by itself already
    expect(await stored(stub)).toEqual({ keys: [], alarm: null });
    expect((await stub.acquire(client, 1)).granted).toBe(1);
  }, 15_000);
});
