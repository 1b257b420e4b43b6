import { describe, expect, it } from "vitest";
import {
  predictionTokens,
  TOKEN_LIFETIME_SECONDS,
  type PredictionClaims,
} from "./prediction-token.ts";

const SECRET = "a-test-secret-of-at-least-32-characters";
const claims: PredictionClaims = {
  rid: "req-1",
  v: "v1",
  m: "d1bc2d1894f3",
  l: "love",
  iat: 1_800_000_000,
};

describe("prediction tokens", () => {
  it("gives back the claims of a token it signed", async () => {
    const tokens = predictionTokens(SECRET);
    expect(await tokens.verify(await tokens.sign(claims), claims.iat + 60)).toEqual(claims);
  });

  it("refuses a token whose claims were changed, or signed with another secret", async () => {
    const tokens = predictionTokens(SECRET);
    const [, signature] = (await tokens.sign(claims)).split(".");
    const changed = `${btoa(JSON.stringify({ ...claims, l: "hate" })).replace(/=+$/, "")}.${signature}`;
    expect(await tokens.verify(changed, claims.iat)).toMatchObject({
      status: 422,
      detail: "the token was not issued by this service",
    });
    const foreign = await predictionTokens(`${SECRET}-other`).sign(claims);
    expect(await tokens.verify(foreign, claims.iat)).toMatchObject({
      status: 422,
      detail: "the token was not issued by this service",
    });
  });

  it("refuses an expired token and a malformed one", async () => {
    const tokens = predictionTokens(SECRET);
    expect(
      await tokens.verify(await tokens.sign(claims), claims.iat + TOKEN_LIFETIME_SECONDS + 1),
    ).toMatchObject({ status: 422, detail: expect.stringMatching(/expired/) });
    for (const bad of ["", "abc", "a.b.c", "!!!.???"])
      expect(await tokens.verify(bad, claims.iat)).toMatchObject({ status: 422 });
  });

  it("refuses to start without a secret of 32 characters or more", () => {
    expect(() => predictionTokens(undefined)).toThrow(/FEEDBACK_SECRET/);
    expect(() => predictionTokens("short")).toThrow(/FEEDBACK_SECRET/);
  });
});
