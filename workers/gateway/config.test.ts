/** The gateway's config: wrangler.toml's vars read into one typed object, and every bad value refused by its name. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "./config.ts";

describe("parseGatewayConfig", () => {
  it("reads the worker's own vars (wrangler.toml's, with the test project's overrides)", () => {
    expect(() => parseGatewayConfig(env)).not.toThrow();
  });

  it("reads each var into its number, flag or name, around white space", () => {
    const vars = {
      RATE_LIMIT_RPS: "0.02",
      RATE_LIMIT_BURST: " 5 ",
      RATE_LIMIT_FAIL_OPEN: "true",
      RATE_LIMITER_DEADLINE_MS: "750",
      RATE_LIMITER_SHARDS: "8",
      CONSUMER_RATE_LIMIT_RPS: "50",
      CONSUMER_RATE_LIMIT_BURST: "100",
      CONSUMER_DAILY_QUOTA: "0",
      AUTH_HASHES_PER_SECOND: "2.5",
      AUTH_FLOOD_ADDRESSES: "20",
      AUTH_CACHE_SECONDS: "60",
      CLIENT_IP_HEADER: "X-Real-IP",
      CANARY_PERCENT: "12.5",
      SHADOW_PERCENT: "100",
      SHADOW_MAX_IN_FLIGHT: "2",
      SHADOW_TIMEOUT_MS: "250",
      UPSTREAM_TIMEOUT_MS: "2000",
      FEEDBACK_LEDGER_CAPACITY: "1000",
    };
    expect(parseGatewayConfig(vars)).toEqual({
      rateLimit: { ratePerSecond: 0.02, burst: 5 },
      rateLimitFailOpen: true,
      rateLimiterDeadlineMs: 750,
      rateLimiterShards: 8,
      consumerRateLimit: { ratePerSecond: 50, burst: 100 },
      consumerDailyQuota: 0,
      authHashesPerSecond: 2.5,
      authFloodAddresses: 20,
      authCacheSeconds: 60,
      clientIpHeader: "X-Real-IP",
      canaryPercent: 12.5,
      shadowPercent: 100,
      shadowMaxInFlight: 2,
      shadowTimeoutMs: 250,
      upstreamTimeoutMs: 2000,
      feedbackLedgerCapacity: 1000,
    });
  });

  it.each([
    ["RATE_LIMIT_RPS", "0", "a number above 0"],
    ["RATE_LIMIT_RPS", "Infinity", "a number above 0"],
    ["RATE_LIMIT_BURST", "1.5", "a whole number, 1 or more"],
    ["RATE_LIMIT_FAIL_OPEN", "yes", '"true" or "false"'],
    ["RATE_LIMITER_SHARDS", "", "a whole number, 1 or more"],
    ["AUTH_CACHE_SECONDS", "soon", "a number above 0"],
    ["CONSUMER_DAILY_QUOTA", "-1", "a whole number, 0 (none) or more"],
    ["AUTH_FLOOD_ADDRESSES", "0", "a whole number, 1 or more"],
    ["CLIENT_IP_HEADER", " ", "set"],
    ["CANARY_PERCENT", "101", "a percentage (0-100)"],
    ["SHADOW_PERCENT", "-5", "a percentage (0-100)"],
    ["SHADOW_MAX_IN_FLIGHT", "0", "a whole number, 1 or more"],
    ["UPSTREAM_TIMEOUT_MS", undefined, "a number above 0"],
  ] as const)("refuses %s=%s, naming the var and what it must be", (name, value, what) => {
    expect(() => parseGatewayConfig({ ...env, [name]: value })).toThrow(
      `${name}=${value} is not ${what}`,
    );
  });
});
