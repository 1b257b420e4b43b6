import { describe, expect, it } from "vitest";
import { basicAuthHeader, postPredict, TEST_PASSWORD, TEST_USER } from "../../test-support.ts";

describe("basic auth", () => {
  it("lets a valid user through (a password with a colon included)", async () => {
    expect(TEST_PASSWORD).toContain(":");
    expect((await postPredict("I love this!")).status).toBe(200);
  });

  it("refuses a request without credentials with a 401 challenge", async () => {
    const response = await postPredict("hi", { authorization: null });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe('Basic realm="fortress", charset="UTF-8"');
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 401, title: "Unauthorized" });
  });

  it("refuses a wrong password", async () => {
    expect((await postPredict("hi", { authorization: basicAuthHeader(TEST_USER, "wrong") })).status).toBe(401);
  });

  it("refuses an unknown user", async () => {
    expect((await postPredict("hi", { authorization: basicAuthHeader("mallory", TEST_PASSWORD) })).status).toBe(401);
  });

  it("refuses a malformed Authorization header", async () => {
    for (const authorization of ["Basic !!!not-base64!!!", "Bearer abc", "Basic", `Basic ${btoa("no-colon")}`]) {
      expect((await postPredict("hi", { authorization })).status).toBe(401);
    }
  });

  it("refuses the part of a password before its colon", async () => {
    const [head] = TEST_PASSWORD.split(":");
    expect((await postPredict("hi", { authorization: basicAuthHeader(TEST_USER, head!) })).status).toBe(401);
  });

  it("still refuses a wrong password of a user whose right one was just verified (and cached)", async () => {
    expect((await postPredict("I love this!")).status).toBe(200);
    expect((await postPredict("hi", { authorization: basicAuthHeader(TEST_USER, `${TEST_PASSWORD}x`) })).status).toBe(401);
    expect((await postPredict("I love this!")).status).toBe(200);
  });
});
