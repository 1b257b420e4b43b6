/**
 * The /predict chain as app.ts wires it, against the built v1/v2 workers: the order of the
 * middleware, which each middleware's own tests (tiny apps) cannot see.
 */
import { describe, expect, it } from "vitest";
import { basicAuthHeader, freshIp, postPredict, TEST_USER } from "./test-support.ts";

describe("the /predict chain", () => {
  it("limits the rate before it checks credentials, so password guessing is limited too", async () => {
    const ip = freshIp();
    const guesses = [];
    for (let i = 0; i < 6; i++)
      guesses.push(
        (await postPredict("hi", { ip, authorization: basicAuthHeader(TEST_USER, `guess${i}`) }))
          .status,
      );
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("checks credentials before the body: a stranger learns nothing of the input rules", async () => {
    const response = await postPredict(null, { authorization: null, body: "{not json" });
    expect(response.status).toBe(401);
  });

  it("serves a signed-in, valid request from v1 with the request id it was given", async () => {
    const response = await postPredict("I love this!", { headers: { "X-Request-Id": "chain-1" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Request-Id")).toBe("chain-1");
    expect(response.headers.get("X-Variant")).toBe("v1");
    expect(await response.json()).toEqual({ "prediction value": "love" });
  });
});
