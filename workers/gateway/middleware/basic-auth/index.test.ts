/** Basic Auth on a tiny app: the middleware alone, with a users list of the test's own. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { beforeAll, describe, expect, it } from "vitest";
import { basicAuthHeader, TEST_PASSWORD, TEST_USER } from "../../test-support.ts";
import { hashPassword } from "./password-hash.ts";
import { basicAuthentication, type BasicAuthOptions } from "./index.ts";

let users = "";
beforeAll(async () => {
  users = `${TEST_USER}:${await hashPassword(TEST_PASSWORD)}`;
});

function tinyApp(options: Partial<BasicAuthOptions> = {}) {
  const refusals: string[] = [];
  const app = new Hono()
    .use(
      basicAuthentication({
        users,
        realm: "fortress",
        cacheSeconds: 60,
        hashesPerSecond: 1000,
        onRefused: (reason) => refusals.push(reason),
        ...options,
      }),
    )
    .get("/", (c) => c.text("in"))
    .onError((error) =>
      error instanceof HTTPException
        ? error.getResponse()
        : new Response("unexpected", { status: 500 }),
    );
  const signIn = (authorization?: string) =>
    app.request("/", {
      headers: authorization === undefined ? {} : { Authorization: authorization },
    });
  return { signIn, refusals };
}

describe("basic auth", () => {
  it("lets a valid user through (a password with a colon included)", async () => {
    expect(TEST_PASSWORD).toContain(":");
    expect((await tinyApp().signIn(basicAuthHeader(TEST_USER, TEST_PASSWORD))).status).toBe(200);
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

  it("answers 503 problem, not 401, when no users are configured: the operator's fault, not the client's", async () => {
    for (const none of [undefined, "", "\n"]) {
      const response = await tinyApp({ users: none }).signIn(
        basicAuthHeader(TEST_USER, TEST_PASSWORD),
      );
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: 503,
        detail: "the gateway has no users configured (secret API_USERS)",
      });
    }
  });

  it("says 'throttled' to onRefused when the hash budget is spent", async () => {
    const { signIn, refusals } = tinyApp({ hashesPerSecond: 1 });
    await signIn(basicAuthHeader(TEST_USER, "guess-1"));
    expect((await signIn(basicAuthHeader(TEST_USER, "guess-2"))).status).toBe(429);
    expect(refusals).toEqual(["unauthorized", "throttled"]);
  });
});
