/** The gateway's config: wrangler.toml's vars read into one typed object, and every bad value refused by its name. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "./config.ts";

describe("parseGatewayConfig", () => {
  it("reads every var the worker is given (wrangler.toml's, with the test's overrides) into numbers, flags and names", () => {
    const config = parseGatewayConfig(env);
    expect(config.rateLimit).toEqual({
      ratePerSecond: Number(env.RATE_LIMIT_RPS),
      burst: Number(env.RATE_LIMIT_BURST),
    });
    expect(config.rateLimitFailOpen).toBe(env.RATE_LIMIT_FAIL_OPEN === "true");
    expect(config.clientIpHeader).toBe(env.CLIENT_IP_HEADER);
    expect(config.authCacheSeconds).toBe(Number(env.AUTH_CACHE_SECONDS));
    expect([config.canaryPercent, config.shadowPercent, config.upstreamTimeoutMs]).toEqual(
      [env.CANARY_PERCENT, env.SHADOW_PERCENT, env.UPSTREAM_TIMEOUT_MS].map(Number),
    );
  });

  it.each([
    ["RATE_LIMIT_RPS", "0", "a number above 0"],
    ["RATE_LIMIT_BURST", "1.5", "a whole number, 1 or more"],
    ["RATE_LIMIT_FAIL_OPEN", "yes", '"true" or "false"'],
    ["RATE_LIMITER_SHARDS", "", "a whole number, 1 or more"],
    ["AUTH_CACHE_SECONDS", "soon", "a number above 0"],
    ["CLIENT_IP_HEADER", " ", "set"],
    ["CANARY_PERCENT", "101", "a percentage (0-100)"],
    ["SHADOW_PERCENT", "-5", "a percentage (0-100)"],
    ["UPSTREAM_TIMEOUT_MS", undefined, "a number above 0"],
  ] as const)("refuses %s=%s, naming the var and what it must be", (name, value, what) => {
    expect(() => parseGatewayConfig({ ...env, [name]: value })).toThrow(
      `${name}=${value} is not ${what}`,
    );
  });
});
