/**
 * The budget of password hashes: the one part of Basic Auth that a flood of guesses can make
 * expensive. The budget alone on a clock the test drives, then on a tiny app with the middleware.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { basicAuthHeader, TEST_PASSWORD, TEST_USER, viewOfSecret } from "../../test-support.ts";
import { hashBudget, RESERVED_SHARE } from "./hash-budget.ts";
import { hashPassword, verifyPassword } from "./password-hash.ts";
import { basicAuthentication } from "./index.ts";

const HASHES_PER_SECOND = 5;
const FLOOD_ADDRESSES = 20;

/**
 * `floods` addresses each asking for a hash every 100 ms (the gateway's per-address rate limit),
 * spread evenly over those 100 ms, for `seconds`; and a new address arriving every second that
 * asks every 100 ms until it gets one: the longest any new address waited, ms.
 */
function longestNewAddressWait(floods: number, seconds: number) {
  const budget = hashBudget({
    hashesPerSecond: HASHES_PER_SECOND,
    floodAddresses: FLOOD_ADDRESSES,
  });
  const start = 1_000_000;
  const waiting = new Map<string, number>();
  let longest = 0;
  for (let tick = 0; tick < (seconds * 1000) / 5; tick++) {
    const now = start + tick * 5;
    for (let i = tick % 20; i < floods; i += 20) budget.take(`198.51.${i >> 8}.${i & 255}`, now);
    if (tick % 200 === 100) waiting.set(`203.0.113.${tick}`, now);
    if (tick % 20 === 0) {
      for (const [address, since] of waiting) {
        if (budget.take(address, now).granted) {
          longest = Math.max(longest, now - since);
          waiting.delete(address);
        }
      }
    }
  }
  for (const since of waiting.values()) longest = Math.max(longest, start + seconds * 1000 - since);
  return longest;
}

describe("the budget of password hashes", () => {
  it("gives a flooding address one hash, then refuses it while a new address still gets one", () => {
    const budget = hashBudget({
      hashesPerSecond: HASHES_PER_SECOND,
      floodAddresses: FLOOD_ADDRESSES,
    });
    const now = 1_000_000;
    expect(budget.take("198.51.100.1", now).granted).toBe(true);
    const refused = budget.take("198.51.100.1", now + 100);
    expect(refused.granted).toBe(false);
    // Its own rate: (1 - reserved) × 5/s shared by twice the covered addresses.
    expect(refused.granted === false && refused.retryAfterMs).toBeGreaterThan(10_000);
    expect(budget.take("203.0.113.1", now + 100).granted).toBe(true);
  });

  it("leaves every new address a hash within a second while one address, or twenty, flood", () => {
    expect(longestNewAddressWait(1, 30)).toBeLessThanOrEqual(1000);
    expect(longestNewAddressWait(FLOOD_ADDRESSES, 30)).toBeLessThanOrEqual(1000);
  });

  it("lets a flood from many more addresses than it covers keep new addresses waiting (the README says so)", () => {
    expect(longestNewAddressWait(10 * FLOOD_ADDRESSES, 30)).toBeGreaterThan(1000);
  });

  it("keeps a reserved share for an address that signed in before, while strangers spend the open budget", () => {
    const budget = hashBudget({
      hashesPerSecond: HASHES_PER_SECOND,
      floodAddresses: FLOOD_ADDRESSES,
    });
    const now = 1_000_000;
    budget.trust("203.0.113.7", now);
    for (let i = 0; i < 1000; i++) budget.take(`198.51.${i >> 8}.${i & 255}`, now);
    expect(budget.take("203.0.113.8", now).granted).toBe(false);
    expect(budget.take("203.0.113.7", now).granted).toBe(true);
    expect(budget.policies.reserved.ratePerSecond).toBeCloseTo(HASHES_PER_SECOND * RESERVED_SHARE);
  });

  it("refuses options that would disable the check", () => {
    for (const hashesPerSecond of [0, -1, Number.NaN])
      expect(() => hashBudget({ hashesPerSecond, floodAddresses: 20 })).toThrow(/hashesPerSecond/);
    for (const floodAddresses of [0, 1.5])
      expect(() => hashBudget({ hashesPerSecond: 5, floodAddresses })).toThrow(/floodAddresses/);
  });
});

async function tinyApp(cacheSeconds = 60) {
  const viewOf = viewOfSecret(`${TEST_USER}:${await hashPassword(TEST_PASSWORD)}`);
  await viewOf(); // the registry object started: its first read does not eat into the budget's second
  const app = new Hono<GatewayEnv>().use(
    basicAuthentication({
      viewOf,
      addressOf: (c) => c.req.header("X-Real-IP") ?? "unknown",
      // One hash a second for the one address of these tests (its share: half the open budget).
      budget: hashBudget({ hashesPerSecond: 2 / (1 - RESERVED_SHARE), floodAddresses: 1 }),
      realm: "test",
      cacheSeconds,
    }),
  );
  app.get("/", (c) => c.text("in"));
  return (authorization: string) =>
    app.request("/", { headers: { Authorization: authorization, "X-Real-IP": "192.0.2.1" } });
}

const guess = (n: number) => basicAuthHeader(TEST_USER, `guess-${n}-${Math.random()}`);
/** The same credentials in a header not seen before (the scheme's case differs), so it must be hashed. */
const freshValidHeader = () => `basic ${btoa(`${TEST_USER}:${TEST_PASSWORD}`)}`;

describe("Basic Auth on the budget", () => {
  it("refuses new credentials past the budget with a 429 problem and Retry-After", async () => {
    const signIn = await tinyApp();
    expect((await signIn(guess(0))).status).toBe(401);
    const refused = await signIn(guess(99));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ status: 429, title: "Too Many Requests" });
  });

  it("lets a verified header through while the budget is spent", async () => {
    const signIn = await tinyApp();
    const valid = basicAuthHeader(TEST_USER, TEST_PASSWORD);
    expect((await signIn(valid)).status).toBe(200);
    for (let i = 0; i < 3; i++) await signIn(guess(i));
    expect((await signIn(guess(100))).status).toBe(429);
    expect((await signIn(valid)).status).toBe(200);
  });

  it("keeps a header in use remembered past cacheSeconds from its check, through a flood", async () => {
    const signIn = await tinyApp(1);
    const valid = basicAuthHeader(TEST_USER, TEST_PASSWORD);
    expect((await signIn(valid)).status).toBe(200);
    for (let step = 0; step < 3; step++) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      for (let i = 0; i < 3; i++) await signIn(guess(i));
      expect((await signIn(valid)).status).toBe(200);
    }
  });

  it("answers a refused header again with 401 without spending the budget", async () => {
    const signIn = await tinyApp();
    const wrong = guess(0);
    expect((await signIn(wrong)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1000 + 50)); // the address's hash is back
    for (let i = 0; i < 10; i++) expect((await signIn(wrong)).status).toBe(401);
    expect((await signIn(freshValidHeader())).status).toBe(200);
  });

  it("signs in a new header again once the address's budget has refilled after a flood", async () => {
    const signIn = await tinyApp();
    for (let i = 0; i < 20; i++) await signIn(guess(i));
    expect((await signIn(freshValidHeader())).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1000 + 50));
    expect((await signIn(freshValidHeader())).status).toBe(200);
  });
});

describe("Basic Auth on the budget, many requests at once", () => {
  it("checks a header that forty requests bring at once with one hash, and signs them all in", async () => {
    let hashes = 0;
    const users = `${TEST_USER}:${await hashPassword(TEST_PASSWORD)}`;
    const app = new Hono<GatewayEnv>().use(
      basicAuthentication({
        viewOf: viewOfSecret(users),
        addressOf: (c) => c.req.header("X-Real-IP") ?? "unknown",
        budget: hashBudget({ hashesPerSecond: 5, floodAddresses: 20 }),
        realm: "test",
        cacheSeconds: 60,
        verify: (password, stored) => {
          hashes++;
          return verifyPassword(password, stored);
        },
      }),
    );
    app.get("/", (c) => c.text("in"));
    const header = freshValidHeader();
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        Promise.resolve(
          app.request("/", { headers: { Authorization: header, "X-Real-IP": `192.0.2.${i}` } }),
        ).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array(40).fill(200));
    expect(hashes).toBe(1);
  });
});
