/** Basic Auth on a tiny app: the middleware alone, with a users list of the test's own. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { REFRESH_MS } from "../../consumers/directory.ts";
import {
  basicAuthHeader,
  directoryOver,
  freshRegistry,
  TEST_PASSWORD,
  TEST_USER,
  viewOfSecret,
} from "../../test-support.ts";
import { hashBudget } from "./hash-budget.ts";
import { hashPassword, verifyPassword } from "./password-hash.ts";
import { basicAuthentication, type BasicAuthOptions } from "./index.ts";

let users = "";
beforeAll(async () => {
  users = `${TEST_USER}:${await hashPassword(TEST_PASSWORD)}`;
});

function tinyApp(options: Partial<BasicAuthOptions> = {}) {
  const refusals: string[] = [];
  const app = new Hono<GatewayEnv>()
    .use(
      basicAuthentication({
        viewOf: viewOfSecret(users),
        addressOf: (c) => c.req.header("X-Real-IP") ?? "unknown",
        budget: hashBudget({ hashesPerSecond: 1000, floodAddresses: 1 }),
        realm: "fortress",
        cacheSeconds: 60,
        onRefused: (reason) => refusals.push(reason),
        ...options,
      }),
    )
    .get("/", (c) => c.text(`in as ${c.get("signedIn").consumer.name}`))
    .onError((error) =>
      error instanceof HTTPException
        ? error.getResponse()
        : new Response("unexpected", { status: 500 }),
    );
  const signIn = (authorization?: string, address = "192.0.2.1") =>
    app.request("/", {
      headers: {
        "X-Real-IP": address,
        ...(authorization === undefined ? {} : { Authorization: authorization }),
      },
    });
  return { signIn, refusals };
}

describe("basic auth", () => {
  it("signs a valid user in as its consumer (a password with a colon included)", async () => {
    expect(TEST_PASSWORD).toContain(":");
    const response = await tinyApp().signIn(basicAuthHeader(TEST_USER, TEST_PASSWORD));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`in as ${TEST_USER}`);
  });

  it("refuses a request without credentials with a 401 problem and a challenge, and says so to onRefused", async () => {
    const { signIn, refusals } = tinyApp();
    const response = await signIn();
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe(
      'Basic realm="fortress", charset="UTF-8"',
    );
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 401, title: "Unauthorized" });
    expect(refusals).toEqual(["unauthorized"]);
  });

  it("refuses a wrong password and an unknown user", async () => {
    const { signIn } = tinyApp();
    expect((await signIn(basicAuthHeader(TEST_USER, "wrong"))).status).toBe(401);
    expect((await signIn(basicAuthHeader("mallory", TEST_PASSWORD))).status).toBe(401);
  });

  it("refuses a malformed Authorization header", async () => {
    const { signIn } = tinyApp();
    for (const authorization of [
      "Basic !!!not-base64!!!",
      "Bearer abc",
      "Basic",
      `Basic ${btoa("no-colon")}`,
    ]) {
      expect((await signIn(authorization)).status).toBe(401);
    }
  });

  it("refuses the part of a password before its colon", async () => {
    const [head] = TEST_PASSWORD.split(":");
    expect((await tinyApp().signIn(basicAuthHeader(TEST_USER, head!))).status).toBe(401);
  });

  it("still refuses a wrong password of a user whose right one was just verified (and cached)", async () => {
    const { signIn } = tinyApp();
    expect((await signIn(basicAuthHeader(TEST_USER, TEST_PASSWORD))).status).toBe(200);
    expect((await signIn(basicAuthHeader(TEST_USER, `${TEST_PASSWORD}x`))).status).toBe(401);
    expect((await signIn(basicAuthHeader(TEST_USER, TEST_PASSWORD))).status).toBe(200);
  });

  it("computes no hash for a name that is no consumer's (the verifier is never called)", async () => {
    let hashes = 0;
    const { signIn } = tinyApp({
      verify: (password, stored) => {
        hashes++;
        return verifyPassword(password, stored);
      },
    });
    for (let i = 0; i < 5; i++)
      expect((await signIn(basicAuthHeader(`mallory-${i}`, "guess"))).status).toBe(401);
    expect(hashes).toBe(0);
    expect((await signIn(basicAuthHeader(TEST_USER, "guess"))).status).toBe(401);
    expect(hashes).toBe(1);
  });

  it("answers unknown names as long after as wrong passwords, one at a time and ten at once (they take turns as hashes do)", async () => {
    const { signIn } = tinyApp();
    const elapsed = async (user: string, atOnce: number) => {
      const started = Date.now();
      const statuses = await Promise.all(
        Array.from({ length: atOnce }, (_, i) =>
          Promise.resolve(signIn(basicAuthHeader(user, `guess-${i}-${Math.random()}`))).then(
            (r) => r.status,
          ),
        ),
      );
      expect(statuses).toEqual(Array(atOnce).fill(401));
      return Date.now() - started;
    };
    await elapsed(TEST_USER, 3); // a few hashes timed, for the estimate
    for (const atOnce of [1, 10]) {
      const known = await elapsed(TEST_USER, atOnce);
      const unknown = await elapsed("mallory", atOnce);
      expect(
        unknown,
        `${atOnce} at once: ${unknown} ms against ${known} ms`,
      ).toBeGreaterThanOrEqual(known * 0.5);
      expect(unknown, `${atOnce} at once: ${unknown} ms against ${known} ms`).toBeLessThanOrEqual(
        known * 2 + 5,
      );
    }
  });

  it("says 'throttled' to onRefused when the hash budget is spent", async () => {
    const { signIn, refusals } = tinyApp({
      budget: hashBudget({ hashesPerSecond: 1, floodAddresses: 1 }),
    });
    await signIn(basicAuthHeader(TEST_USER, "guess-1"));
    const refused = await signIn(basicAuthHeader(TEST_USER, "guess-2"));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ "violated-policy": "sign-in" });
    expect(refusals).toEqual(["unauthorized", "throttled"]);
  });

  it("gives a known and an unknown name the same answer when the address's budget is spent", async () => {
    const { signIn } = tinyApp({ budget: hashBudget({ hashesPerSecond: 1, floodAddresses: 1 }) });
    await signIn(basicAuthHeader(TEST_USER, "guess-1"));
    const known = await signIn(basicAuthHeader(TEST_USER, "guess-2"));
    const unknown = await signIn(basicAuthHeader("mallory", "guess-3"));
    expect([known.status, unknown.status]).toEqual([429, 429]);
    expect(known.headers.get("Retry-After")).toBe(unknown.headers.get("Retry-After"));
  });
});

describe("basic auth over the registry", () => {
  it("signs in a header refused before its consumer had that password, once the gateway's view has it", async () => {
    const registry = freshRegistry();
    const viewOf = directoryOver(registry);
    const { signIn } = tinyApp({ viewOf });
    const header = basicAuthHeader("newcomer", "their password");
    expect((await signIn(header)).status).toBe(401);
    await registry.addConsumer("test", { name: "newcomer" });
    await registry.setPassword("test", "newcomer", await hashPassword("their password"));
    const later = Date.now() + REFRESH_MS;
    vi.spyOn(Date, "now").mockReturnValue(later);
    await viewOf(); // the stale view is read again
    const response = await signIn(header);
    vi.restoreAllMocks();
    expect(response.status).toBe(200);
  });
});
