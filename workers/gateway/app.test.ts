/** A gateway built from a config of the test's own (createGateway), on the test project's real v1 and v2 workers. */
import { describe, expect, it } from "vitest";
import { gatewayWith, predictOn } from "./test-gateway.ts";

describe("createGateway", () => {
  it("routes by the config it is given: CANARY_PERCENT=100 sends ordinary traffic to the candidate, with the stable body", async () => {
    const response = await predictOn(gatewayWith({ CANARY_PERCENT: "100" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Variant")).toBe("v2");
    expect(await response.json()).toEqual({ "prediction value": "love" });
  });

  it("and the worker's own config (CANARY_PERCENT=0) sends it to the stable variant", async () => {
    const response = await predictOn(gatewayWith({}));
    expect(response.headers.get("X-Variant")).toBe("v1");
  });
});
