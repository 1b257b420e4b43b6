/** The daily quota on tiny apps over a real registry: what one consumer may spend a UTC day. */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { blockSizeOf, dailyQuota, type QuotaStore } from "./index.ts";

const freshStore = (): QuotaStore => {
  const registry = env.CONSUMERS.get(env.CONSUMERS.idFromName(`quota-${Math.random()}`));
  return { leaseQuota: (...args) => registry.leaseQuota(...args) };
};

/** A gateway isolate's quota: the middleware on a tiny app, counting what it asks the store. */
function isolate(store: QuotaStore, daily: number | null | (() => number | null)) {
  const dailyNow = typeof daily === "function" ? daily : () => daily;
  let leases = 0;
  const app = new Hono<GatewayEnv>()
    .use(
      dailyQuota({
        store: {
          leaseQuota: (...args) => {
            leases++;
            return store.leaseQuota(...args);
          },
        },
        quotaOf: () => ({ consumer: "team-a", daily: dailyNow() }),
        deadlineMs: 5000,
        onStoreError: "fail-closed",
      }),
    )
    .get("/", (c) => c.text("served"))
    .onError((error) =>
      error instanceof HTTPException
        ? error.getResponse()
        : new Response(String(error), { status: 500 }),
    );
  return { send: () => app.request("/"), leases: () => leases };
}

describe("the daily quota", () => {
  it("serves a consumer's quota, then answers a 429 problem naming the daily policy, retrying at 00:00 UTC", async () => {
    const { send } = isolate(freshStore(), 5);
    for (let i = 0; i < 5; i++) expect((await send()).status).toBe(200);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ "violated-policy": "daily" });
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const retryAt = Date.now() + Number(refused.headers.get("Retry-After")) * 1000;
    expect(Math.abs(retryAt - midnight.getTime())).toBeLessThan(2000);
    expect(refused.headers.get("RateLimit")).toMatch(/^"daily";r=0;t=\d+$/);
  });

  it("asks the store once a block (1% of the quota), and says what is left in RateLimit", async () => {
    const { send, leases } = isolate(freshStore(), 1000);
    const block = blockSizeOf(1000);
    expect(block).toBe(10);
    let last: Response | undefined;
    for (let i = 0; i < 3 * block; i++) last = await send();
    expect(leases()).toBe(3);
    expect(last!.headers.get("RateLimit")).toMatch(
      new RegExp(`^"daily";r=${1000 - 3 * block};t=\\d+$`),
    );
    expect(last!.headers.get("RateLimit-Policy")).toBe('"daily";q=1000;w=86400');
  });

  it("serves a consumer again at once when the operator raises its spent quota", async () => {
    let daily = 3;
    const { send } = isolate(freshStore(), () => daily);
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(429);
    daily = 10;
    expect((await send()).status).toBe(200);
  });

  it("lets a consumer without a quota through without asking the store", async () => {
    const { send, leases } = isolate(freshStore(), null);
    expect((await send()).status).toBe(200);
    expect(leases()).toBe(0);
  });

  it("never lets two isolates sharing one store serve more than the day's quota, and loses at most one block to a restart", async () => {
    const store = freshStore();
    const daily = 1000;
    const block = blockSizeOf(daily);
    let a = isolate(store, daily);
    const b = isolate(store, daily);
    let served = 0;
    const sendTo = async (i: { send: () => Response | Promise<Response> }) => {
      const status = (await i.send()).status;
      if (status === 200) served++;
      return status;
    };
    for (let i = 0; i < 305; i++) await sendTo(a);
    for (let i = 0; i < 300; i++) await sendTo(b);
    a = isolate(store, daily); // a restart: the rest of its block is gone with it
    let refusedBoth = false;
    for (let i = 0; i < 2 * daily && !refusedBoth; i++) {
      const statuses = [await sendTo(a), await sendTo(b)];
      refusedBoth = statuses.every((s) => s === 429);
    }
    expect(refusedBoth).toBe(true);
    expect(served).toBeLessThanOrEqual(daily);
    expect(daily - served).toBeLessThanOrEqual(block);
  });
});
