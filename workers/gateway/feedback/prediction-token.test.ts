import { describe, expect, it } from "vitest";
import { predictionTokens, TOKEN_LIFETIME_SECONDS, type Prediction } from "./prediction-token.ts";

const SECRET = "a-test-secret-of-at-least-32-characters";
const prediction: Prediction = {
  rid: "req-1",
  variant: "v1",
  route: "stable",
  model: "d1bc2d1894f3",
  label: "love",
};
const base64Url = (value: object) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

describe("prediction tokens", () => {
  it("are JWTs (HS256) naming the consumer they were given to, with a unique id, for 7 days", async () => {
    const tokens = predictionTokens(SECRET);
    const [first, second] = [
      await tokens.sign(prediction, "alice"),
      await tokens.sign(prediction, "alice"),
    ];
    expect(JSON.parse(atob(first.split(".")[0]!))).toEqual({ alg: "HS256", typ: "JWT" });
    const claims = await tokens.verify(first);
    expect(claims).toEqual({
      ...prediction,
      sub: "alice",
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    if ("status" in claims) throw new Error("refused");
    expect(claims.exp - claims.iat).toBe(TOKEN_LIFETIME_SECONDS);
    const again = await tokens.verify(second);
    expect("jti" in again && again.jti).not.toBe(claims.jti);
  });

  it("refuses a token whose claims were changed, signed with another secret, or of another algorithm (none)", async () => {
    const tokens = predictionTokens(SECRET);
    const [header, body, signature] = (await tokens.sign(prediction, "alice")).split(".");
    const claims = JSON.parse(atob(body!.replaceAll("-", "+").replaceAll("_", "/")));
    const forgeries = [
      `${header}.${base64Url({ ...claims, sub: "mallory" })}.${signature}`,
      await predictionTokens(`${SECRET}-other`).sign(prediction, "alice"),
      `${base64Url({ alg: "none", typ: "JWT" })}.${body}.`,
      `${base64Url({ alg: "HS512", typ: "JWT" })}.${body}.${signature}`,
    ];
    for (const forged of forgeries)
      expect(await tokens.verify(forged)).toEqual({
        status: 422,
        detail: "the token was not issued by this service",
      });
  });

  it("refuses an expired token and a malformed one", async () => {
    const tokens = predictionTokens(SECRET);
    const old = await tokens.sign(
      prediction,
      "alice",
      Date.now() / 1000 - TOKEN_LIFETIME_SECONDS - 1,
    );
    expect(await tokens.verify(old)).toMatchObject({
      status: 422,
      detail: expect.stringMatching(/expired/),
    });
    for (const bad of ["", "abc", "a.b.c", "!!!.???.!!!"])
      expect(await tokens.verify(bad)).toMatchObject({ status: 422 });
  });

  it("refuses to start without a secret of 32 characters or more", () => {
    expect(() => predictionTokens(undefined)).toThrow(/FEEDBACK_SECRET/);
    expect(() => predictionTokens("short")).toThrow(/FEEDBACK_SECRET/);
  });
});
