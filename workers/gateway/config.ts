/**
 * The gateway's configuration: its vars (wrangler.toml's [vars], each overridable at start) read
 * and checked once into one typed object; an error names the var. The gateway, its rate limiter
 * (the Durable Object) and the local stack's settings (which refuse a bad value before anything
 * starts) all read it through parseGatewayConfig.
 */
import type { RatePolicy } from "./gcra.ts";

export interface GatewayConfig {
  /** RATE_LIMIT_RPS and RATE_LIMIT_BURST: each client address's sustained rate and burst. */
  rateLimit: RatePolicy;
  /** RATE_LIMIT_FAIL_OPEN: let requests through when the rate limiter cannot be reached. */
  rateLimitFailOpen: boolean;
  /** RATE_LIMITER_DEADLINE_MS: after this, the rate limiter counts as unreachable. */
  rateLimiterDeadlineMs: number;
  /** RATE_LIMITER_SHARDS: the Durable Objects the clients are spread over. */
  rateLimiterShards: number;
  /** CONSUMER_RATE_LIMIT_RPS / _BURST: a consumer's rate and burst unless it has its own. */
  consumerRateLimit: RatePolicy;
  /** CONSUMER_DAILY_QUOTA: a consumer's requests a UTC day unless it has its own; 0: none. */
  consumerDailyQuota: number;
  /** AUTH_HASHES_PER_SECOND: password hashes a second for headers not yet verified, all clients together. */
  authHashesPerSecond: number;
  /** AUTH_FLOOD_ADDRESSES: how many addresses flooding wrong passwords still leave new clients a hash. */
  authFloodAddresses: number;
  /** AUTH_CACHE_SECONDS: how long a verified header is remembered after its last use. */
  authCacheSeconds: number;
  /** CLIENT_IP_HEADER: the request header that carries the client's address. */
  clientIpHeader: string;
  /** CANARY_PERCENT: the share of ordinary traffic the candidate answers, 0-100. */
  canaryPercent: number;
  /** SHADOW_PERCENT: the share of the stable variant's requests also sent to the candidate, 0-100. */
  shadowPercent: number;
  /** SHADOW_MAX_IN_FLIGHT: shadow copies in flight at most on an isolate; past it one is skipped. */
  shadowMaxInFlight: number;
  /** SHADOW_TIMEOUT_MS: how long the candidate may take over a shadow copy. */
  shadowTimeoutMs: number;
  /** UPSTREAM_TIMEOUT_MS: how long a variant may take before the client gets a 504. */
  upstreamTimeoutMs: number;
  /** FEEDBACK_LEDGER_CAPACITY: prediction tokens the feedback ledger remembers at most. */
  feedbackLedgerCapacity: number;
}

/** The vars, by name: what wrangler.toml declares and Env carries. */
export type GatewayVars = Partial<
  Record<
    | "RATE_LIMIT_RPS"
    | "RATE_LIMIT_BURST"
    | "RATE_LIMIT_FAIL_OPEN"
    | "RATE_LIMITER_DEADLINE_MS"
    | "RATE_LIMITER_SHARDS"
    | "CONSUMER_RATE_LIMIT_RPS"
    | "CONSUMER_RATE_LIMIT_BURST"
    | "CONSUMER_DAILY_QUOTA"
    | "AUTH_HASHES_PER_SECOND"
    | "AUTH_FLOOD_ADDRESSES"
    | "AUTH_CACHE_SECONDS"
    | "CLIENT_IP_HEADER"
    | "CANARY_PERCENT"
    | "SHADOW_PERCENT"
    | "SHADOW_MAX_IN_FLIGHT"
    | "SHADOW_TIMEOUT_MS"
    | "UPSTREAM_TIMEOUT_MS"
    | "FEEDBACK_LEDGER_CAPACITY",
    string
  >
>;

type Name = keyof GatewayVars;

export function parseGatewayConfig(vars: GatewayVars): GatewayConfig {
  const refuse = (name: Name, what: string): never => {
    throw new Error(`${name}=${vars[name]} is not ${what}`);
  };
  const number = (name: Name, what: string, ok: (n: number) => boolean) => {
    const text = vars[name]?.trim() ?? "";
    const n = Number(text);
    return text !== "" && Number.isFinite(n) && ok(n) ? n : refuse(name, what);
  };
  const above0 = (name: Name) => number(name, "a number above 0", (n) => n > 0);
  const atLeast1 = (name: Name) =>
    number(name, "a whole number, 1 or more", (n) => Number.isInteger(n) && n >= 1);
  const percentage = (name: Name) =>
    number(name, "a percentage (0-100)", (n) => n >= 0 && n <= 100);
  const flag = (name: Name) => {
    const text = vars[name]?.trim();
    return text === "true" ? true : text === "false" ? false : refuse(name, '"true" or "false"');
  };
  const text = (name: Name) => (vars[name]?.trim() ? vars[name]!.trim() : refuse(name, "set"));
  return {
    rateLimit: { ratePerSecond: above0("RATE_LIMIT_RPS"), burst: atLeast1("RATE_LIMIT_BURST") },
    rateLimitFailOpen: flag("RATE_LIMIT_FAIL_OPEN"),
    rateLimiterDeadlineMs: above0("RATE_LIMITER_DEADLINE_MS"),
    rateLimiterShards: atLeast1("RATE_LIMITER_SHARDS"),
    consumerRateLimit: {
      ratePerSecond: above0("CONSUMER_RATE_LIMIT_RPS"),
      burst: atLeast1("CONSUMER_RATE_LIMIT_BURST"),
    },
    consumerDailyQuota: number(
      "CONSUMER_DAILY_QUOTA",
      "a whole number, 0 (none) or more",
      (n) => Number.isInteger(n) && n >= 0,
    ),
    authHashesPerSecond: above0("AUTH_HASHES_PER_SECOND"),
    authFloodAddresses: atLeast1("AUTH_FLOOD_ADDRESSES"),
    authCacheSeconds: above0("AUTH_CACHE_SECONDS"),
    clientIpHeader: text("CLIENT_IP_HEADER"),
    canaryPercent: percentage("CANARY_PERCENT"),
    shadowPercent: percentage("SHADOW_PERCENT"),
    shadowMaxInFlight: atLeast1("SHADOW_MAX_IN_FLIGHT"),
    shadowTimeoutMs: above0("SHADOW_TIMEOUT_MS"),
    upstreamTimeoutMs: above0("UPSTREAM_TIMEOUT_MS"),
    feedbackLedgerCapacity: atLeast1("FEEDBACK_LEDGER_CAPACITY"),
  };
}
