/**
 * The lease path: above 10 requests a second per client, this isolate takes a batch of tokens
 * from the store and spends it locally. On a tiny app with the in-memory store, counting what
 * the store is asked, on a clock the test moves.
 */
import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { memoryStore, type LimiterStore } from "../../rate-limiter/limiter-store.ts";
import { rateLimit } from "./index.ts";

const POLICY = { ratePerSecond: 100, burst: 20 }; // a lease of 10 tokens (100 ms worth)

function tinyApp() {
  let now = 1_000_000;
  const memory = memoryStore(POLICY, () => now);
  const asked: number[] = [];
  const store: LimiterStore = {
    acquire: (client, want) => {
      asked.push(want);
      return memory.acquire(client, want);
    },
  };
  const app = new Hono()
    .use(
      rateLimit({
        store,
        policy: POLICY,
        keyOf: (c) => c.req.header("X-Real-IP") ?? "unknown",
        limiterDeadlineMs: 500,
        onLimiterError: "fail-closed",
      }),
    )
    .get("/", (c) => c.text("served"));
  vi.spyOn(Date, "now").mockImplementation(() => now);
  return {
    asked,
    advance: (ms: number) => (now += ms),
    status: async (ip = "192.0.2.1") =>
      (await app.request("/", { headers: { "X-Real-IP": ip } })).status,
  };
}

// The clock is the test's only while it runs: a test file that ran after this one in the same
// isolate with Date.now() still frozen spun at 100% CPU (seen once in make test).
afterEach(() => vi.restoreAllMocks());

describe("the rate limit's lease", () => {
  it("asks the store once for a batch of 10 tokens, then serves 9 more requests without asking", async () => {
    const app = tinyApp();
    for (let i = 0; i < 10; i++) expect(await app.status()).toBe(200);
    expect(app.asked).toEqual([10]);
  });

  it("asks again when the batch is spent, and refuses once the store's burst is gone", async () => {
    const app = tinyApp();
    const statuses = [];
    for (let i = 0; i < 21; i++) statuses.push(await app.status());
    expect(statuses.filter((s) => s === 200)).toHaveLength(POLICY.burst);
    expect(statuses.at(-1)).toBe(429);
    expect(app.asked).toEqual([10, 10, 10]);
  });

  it("does not ask the store again while the client is refused, and serves it once tokens have refilled", async () => {
    const app = tinyApp();
    for (let i = 0; i < 21; i++) await app.status();
    const askedWhenRefused = app.asked.length;
    expect(await app.status()).toBe(429);
    expect(app.asked).toHaveLength(askedWhenRefused);
    app.advance(100);
    expect(await app.status()).toBe(200);
  });

  it("asks the store for a new batch once a lease is 100 ms old, even with tokens left in it", async () => {
    const app = tinyApp();
    expect(await app.status()).toBe(200);
    app.advance(150);
    expect(await app.status()).toBe(200);
    expect(app.asked).toEqual([10, 10]);
  });

  it("keeps each client's lease apart", async () => {
    const app = tinyApp();
    for (let i = 0; i < 21; i++) await app.status("192.0.2.1");
    expect(await app.status("192.0.2.2")).toBe(200);
  });
});
