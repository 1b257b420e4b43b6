/**
 * The budget of password hashes, on a tiny app: the one part of Basic Auth that a flood of
 * guesses from many addresses can make expensive.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { basicAuthHeader, TEST_PASSWORD, TEST_USER } from "../../test-support.ts";
import { hashPassword } from "./password-hash.ts";
import { basicAuthentication } from "./index.ts";

const HASHES_PER_SECOND = 2;

async function tinyApp(cacheSeconds = 60) {
  const users = `${TEST_USER}:${await hashPassword(TEST_PASSWORD)}`;
  const app = new Hono().use(
    basicAuthentication({ users, realm: "test", cacheSeconds, hashesPerSecond: HASHES_PER_SECOND }),
  );
  app.get("/", (c) => c.text("in"));
  return (authorization: string) => app.request("/", { headers: { Authorization: authorization } });
}

const guess = (n: number) => basicAuthHeader(TEST_USER, `guess-${n}-${Math.random()}`);
/** The same credentials in a header not seen before (the scheme's case differs), so it must be hashed. */
const freshValidHeader = () => `basic ${btoa(`${TEST_USER}:${TEST_PASSWORD}`)}`;

describe("the budget of password hashes", () => {
  it("refuses new credentials past the budget with a 429 problem and Retry-After", async () => {
    const signIn = await tinyApp();
    for (let i = 0; i < HASHES_PER_SECOND; i++) expect((await signIn(guess(i))).status).toBe(401);
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
    for (let i = 0; i < HASHES_PER_SECOND + 2; i++) await signIn(guess(i));
    expect((await signIn(guess(100))).status).toBe(429);
    expect((await signIn(valid)).status).toBe(200);
  });

  it("keeps a header in use remembered past cacheSeconds from its check, through a flood", async () => {
    const signIn = await tinyApp(1);
    const valid = basicAuthHeader(TEST_USER, TEST_PASSWORD);
    expect((await signIn(valid)).status).toBe(200);
    for (let step = 0; step < 3; step++) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      for (let i = 0; i < HASHES_PER_SECOND + 1; i++) await signIn(guess(i));
      expect((await signIn(valid)).status).toBe(200);
    }
  });

  it("answers a refused header again with 401 without spending the budget", async () => {
    const signIn = await tinyApp();
    const wrong = guess(0);
    for (let i = 0; i < 10; i++) expect((await signIn(wrong)).status).toBe(401);
    expect((await signIn(freshValidHeader())).status).toBe(200);
  });

  it("signs in a new user again once the budget has refilled after a flood", async () => {
    const signIn = await tinyApp();
    for (let i = 0; i < 20; i++) await signIn(guess(i));
    expect((await signIn(freshValidHeader())).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1000 / HASHES_PER_SECOND + 50));
    expect((await signIn(freshValidHeader())).status).toBe(200);
  });

  it("refuses a budget that would disable the check", () => {
    for (const hashesPerSecond of [0, -1, Number.NaN]) {
      expect(() =>
        basicAuthentication({ users: "", realm: "test", cacheSeconds: 60, hashesPerSecond }),
      ).toThrow(/hashesPerSecond/);
    }
  });
});
