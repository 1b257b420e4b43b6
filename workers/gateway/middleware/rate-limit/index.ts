import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../../shared/http/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import type { RatePolicy } from "../../gcra.ts";
import type { LimiterStore } from "../../rate-limiter/limiter-store.ts";
import { withDeadline } from "../../../shared/http/with-timeout.ts";
import { announceLimit, rateLimitHeaders } from "./headers.ts";

export type RateLimitOptions = {
  /** Where the tokens come from: the Durable Objects, or memory in tests. */
  store: LimiterStore;
  /** The policy's name in the RateLimit headers and 429 problems (default "per-address"). */
  name?: string;
  policy: RatePolicy;
  /** Each client's own policy, when it has one (a consumer's limits); else `policy`. */
  policyOf?: (c: Context<GatewayEnv>) => RatePolicy;
  /** Who the client is: each key has its own budget (the gateway: its IP, as what stands in front says). */
  keyOf: (c: Context<GatewayEnv>) => string;
  /** How long the object may take to answer before it counts as unreachable (the policy below applies). */
  limiterDeadlineMs: number;
  /** Told of each request refused with 429. */
  onRefused?: () => void;
} & (
  | { onLimiterError: "fail-closed" }
  /** Let requests through when the limiter cannot be reached: availability over protection. */
  | { onLimiterError: "fail-open" }
);

/** A GCRA policy in the draft's terms: its burst is the quota, refilled whole in burst / rate seconds. */
const quotaOf = (policy: RatePolicy) => ({
  quota: policy.burst,
  windowSeconds: Math.max(1, Math.ceil(policy.burst / policy.ratePerSecond)),
});

/** How long a batch of tokens leased from the object may be spent locally. */
const LEASE_MS = 100;
/** Clients whose lease this isolate remembers; past this the oldest are forgotten (they ask again). */
const MAX_LEASES = 10_000;

interface Lease {
  tokens: number;
  /** Tokens the object had left besides this lease when it granted it (for the RateLimit header). */
  remaining: number;
  /** When the client's whole burst is back, as the object said (for the RateLimit header). */
  fullAt: number;
  expiresAt: number;
  /** Set when the object refused: no token until then, so no need to ask it again. */
  deniedUntil: number;
}

/**
 * A rate limit per key, in GCRA tokens. The gateway has two: per client address, before anything
 * else of /predict (credentials included, so password guessing is limited too), and per consumer
 * after sign-in, each consumer at its own rate. The Durable Object is the authority; to spare a
 * round trip per request, this isolate leases up to 100 ms worth of tokens at a time (never more
 * than the client could spend anyway: at 10/s that is one token, so every request asks the object).
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<GatewayEnv> {
  const { store, keyOf, limiterDeadlineMs, onLimiterError } = options;
  const name = options.name ?? "per-address";
  const policyOf = options.policyOf ?? (() => options.policy);
  const onRefused = options.onRefused ?? (() => {});
  const leaseSizeOf = (policy: RatePolicy) =>
    Math.max(1, Math.min(policy.burst, Math.floor((policy.ratePerSecond * LEASE_MS) / 1000)));
  const leases = new Map<string, Lease>();
  /** Clients for whom a request for a batch of tokens is under way. */
  const leasing = new Set<string>();

  function limited(policy: RatePolicy, retryAfterMs: number, resetMs: number): never {
    onRefused();
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const res = problemResponse(
      {
        status: 429,
        detail: `${name} rate limit of ${policy.ratePerSecond}/s (burst ${policy.burst}) reached; retry in ${retryAfter} s`,
        "violated-policy": name,
      },
      {
        "Retry-After": String(retryAfter),
        ...rateLimitHeaders({
          name,
          ...quotaOf(policy),
          remaining: 0,
          resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
        }),
      },
    );
    throw new HTTPException(429, { res });
  }

  /** Asks the object for `want` tokens; undefined when it cannot be reached in time. Never throws. */
  async function requestLease(
    ip: string,
    want: number,
    policy: RatePolicy,
  ): Promise<Lease | undefined> {
    const now = Date.now();
    try {
      const grant = await withDeadline(limiterDeadlineMs, store.acquire(ip, want, policy));
      return {
        tokens: grant.granted,
        remaining: grant.remaining,
        fullAt: now + grant.resetMs,
        expiresAt: now + LEASE_MS,
        deniedUntil: grant.granted === 0 ? now + grant.retryAfterMs : 0,
      };
    } catch (error) {
      console.error(JSON.stringify({ event: "rate_limiter_unreachable", error: String(error) }));
      return undefined;
    }
  }

  /**
   * A token for this request: from the current lease, else from the object. One request at a time
   * per client asks for a batch; the requests that arrive meanwhile ask for one token each (they
   * cannot wait on that request's promise: workerd cancels a request that awaits another's I/O),
   * so concurrent requests never take a batch each.
   */
  async function takeToken(ip: string, policy: RatePolicy): Promise<Lease | "unreachable"> {
    const now = Date.now();
    const current = leases.get(ip);
    if (current && now < current.deniedUntil)
      limited(policy, current.deniedUntil - now, current.deniedUntil - now);
    if (current && current.tokens > 0 && now < current.expiresAt) {
      current.tokens--;
      return current;
    }
    const batch = !leasing.has(ip);
    if (batch) leasing.add(ip);
    let lease: Lease | undefined;
    try {
      lease = await requestLease(ip, batch ? leaseSizeOf(policy) : 1, policy);
    } finally {
      if (batch) leasing.delete(ip);
    }
    if (!lease) return "unreachable";
    if (batch || lease.tokens === 0) {
      if (leases.size >= MAX_LEASES) leases.delete(leases.keys().next().value!);
      leases.set(ip, lease);
    }
    if (lease.tokens === 0)
      limited(policy, lease.deniedUntil - Date.now(), lease.deniedUntil - Date.now());
    lease.tokens--;
    return lease;
  }

  return async function rateLimit(c, next) {
    const policy = policyOf(c);
    const lease = await takeToken(keyOf(c), policy);
    if (lease === "unreachable") {
      if (onLimiterError === "fail-closed") {
        throw new HTTPException(503, {
          res: problemResponse(
            { status: 503, detail: "the rate limiter cannot be reached; retry shortly" },
            { "Retry-After": "1" },
          ),
        });
      }
      await next();
      return;
    }
    await next();
    // On the response the handler made (c.header() before next() is lost when it returns its own).
    announceLimit(c.res.headers, {
      name,
      ...quotaOf(policy),
      remaining: lease.tokens + lease.remaining,
      resetSeconds: Math.max(0, Math.ceil((lease.fullAt - Date.now()) / 1000)),
    });
  };
}
