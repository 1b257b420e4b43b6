import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "./rate-limiter.ts";

const namespace = env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>;
const RATE_PER_SECOND = Number(env.RATE_LIMIT_RPS);

const stored = (stub: DurableObjectStub<RateLimiter>) =>
  runInDurableObject(stub, async (_, state) => ({ keys: [...(await state.storage.list()).keys()], alarm: await state.storage.getAlarm() }));

describe("RateLimiter storage", () => {
  it("stores nothing for a client within its budget", async () => {
    const stub = namespace.get(namespace.idFromName("198.51.100.20"));
    for (let i = 0; i < 3; i++) expect((await stub.acquire(1)).granted).toBe(1);
    expect(await stored(stub)).toEqual({ keys: [], alarm: null });
  });

  it("stores the TAT of a limited client with an alarm, which deletes it once the budget is full again", async () => {
    const stub = namespace.get(namespace.idFromName("198.51.100.21"));
    while ((await stub.acquire(1)).granted === 1);
    const limited = await stored(stub);
    expect(limited.keys).toEqual(["tat"]);
    expect(limited.alarm).toBeGreaterThan(Date.now());

    // Too early: the budget is not full yet, so the alarm only moves on.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stored(stub)).keys).toEqual(["tat"]);

    const fullAgainInMs = (await stored(stub)).alarm! - Date.now();
    expect(fullAgainInMs).toBeLessThanOrEqual((Number(env.RATE_LIMIT_BURST) * 1000) / RATE_PER_SECOND);
    await new Promise((resolve) => setTimeout(resolve, fullAgainInMs + 50));
    await runDurableObjectAlarm(stub); // unless it has fired by itself already
    expect(await stored(stub)).toEqual({ keys: [], alarm: null });
    expect((await stub.acquire(1)).granted).toBe(1);
  }, 15_000);
});
