import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../../shared/http/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import type { RatePolicy } from "../../gcra.ts";
import type { LimiterStore } from "../../rate-limiter/limiter-store.ts";
import { withDeadline } from "../../../shared/http/with-timeout.ts";

export type RateLimitOptions = {
  /** Where the tokens come from: the Durable Objects, or memory in tests. */
  store: LimiterStore;
  policy: RatePolicy;
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

/** How long a batch of tokens leased from the object may be spent locally. */
const LEASE_MS = 100;
/** Clients whose lease this isolate remembers; past this the oldest are forgotten (they ask again). */
const MAX_LEASES = 10_000;

interface Lease {
  tokens: number;
  /** Tokens the object had left besides this lease when it granted it (for the RateLimit header). */
  remaining: number;
  expiresAt: number;
  /** Set when the object refused: no token until then, so no need to ask it again. */
  deniedUntil: number;
}

/**
 * Per-client-IP rate limit, before anything else of /predict (credentials included, so password
 * guessing is limited too). The Durable Object is the authority; to spare a round trip per
 * request, this isolate leases up to 100 ms worth of tokens at a time (never more than the client
 * could spend anyway: at the default 10/s that is one token, so every request asks the object).
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<GatewayEnv> {
  const { store, policy, keyOf, limiterDeadlineMs, onLimiterError } = options;
  const onRefused = options.onRefused ?? (() => {});
  const leaseSize = Math.max(
    1,
    Math.min(policy.burst, Math.floor((policy.ratePerSecond * LEASE_MS) / 1000)),
  );
  const leases = new Map<string, Lease>();
  /** Clients for whom a request for a batch of tokens is under way. */
  const leasing = new Set<string>();
  const policyHeader = `"per-ip";q=${policy.ratePerSecond};w=1`;

  function limited(retryAfterMs: number, resetMs: number): never {
    onRefused();
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const res = problemResponse(
      {
        status: 429,
        detail: `rate limit of ${policy.ratePerSecond}/s (burst ${policy.burst}) reached; retry in ${retryAfter} s`,
      },
      {
        "Retry-After": String(retryAfter),
        "RateLimit-Policy": policyHeader,
        RateLimit: `"per-ip";r=0;t=${Math.max(1, Math.ceil(resetMs / 1000))}`,
      },
    );
    throw new HTTPException(429, { res });
  }

  /** Asks the object for `want` tokens; undefined when it cannot be reached in time. Never throws. */
  async function requestLease(ip: string, want: number): Promise<Lease | undefined> {
    const now = Date.now();
    try {
      const grant = await withDeadline(limiterDeadlineMs, store.acquire(ip, want));
      return {
        tokens: grant.granted,
        remaining: grant.remaining,
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
  async function takeToken(ip: string): Promise<Lease | "unreachable"> {
    const now = Date.now();
    const current = leases.get(ip);
    if (current && now < current.deniedUntil)
      limited(current.deniedUntil - now, current.deniedUntil - now);
    if (current && current.tokens > 0 && now < current.expiresAt) {
      current.tokens--;
      return current;
    }
    const batch = !leasing.has(ip);
    if (batch) leasing.add(ip);
    let lease: Lease | undefined;
    try {
      lease = await requestLease(ip, batch ? leaseSize : 1);
    } finally {
      if (batch) leasing.delete(ip);
    }
    if (!lease) return "unreachable";
    if (batch || lease.tokens === 0) {
      if (leases.size >= MAX_LEASES) leases.delete(leases.keys().next().value!);
      leases.set(ip, lease);
    }
    if (lease.tokens === 0) limited(lease.deniedUntil - Date.now(), lease.deniedUntil - Date.now());
    lease.tokens--;
    return lease;
  }

  return async function rateLimit(c, next) {
    const lease = await takeToken(keyOf(c));
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
    c.res.headers.set("RateLimit-Policy", policyHeader);
    c.res.headers.set("RateLimit", `"per-ip";r=${lease.tokens + lease.remaining};t=1`);
  };
}
