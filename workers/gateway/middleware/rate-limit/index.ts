import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../../shared/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { metrics } from "../../gateway-metrics.ts";
import type { RatePolicy } from "../../rate-limiter/gcra.ts";
import type { RateLimiter } from "../../rate-limiter/rate-limiter.ts";

export type RateLimitOptions = {
  /** One RateLimiter object per client IP. */
  namespace: DurableObjectNamespace<RateLimiter>;
  policy: RatePolicy;
  /** The request header that carries the client's IP, set by what stands in front (nginx, Cloudflare). */
  clientIpHeader: string;
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
  const { namespace, policy, clientIpHeader, onLimiterError } = options;
  const leaseSize = Math.max(1, Math.min(policy.burst, Math.floor((policy.ratePerSecond * LEASE_MS) / 1000)));
  const leases = new Map<string, Lease>();
  const policyHeader = `"per-ip";q=${policy.ratePerSecond};w=1`;

  function limited(retryAfterMs: number, resetMs: number): never {
    metrics.rateLimited.inc();
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const res = problemResponse(
      { status: 429, detail: `rate limit of ${policy.ratePerSecond}/s (burst ${policy.burst}) reached; retry in ${retryAfter} s` },
      {
        "Retry-After": String(retryAfter),
        "RateLimit-Policy": policyHeader,
        RateLimit: `"per-ip";r=0;t=${Math.max(1, Math.ceil(resetMs / 1000))}`,
      },
    );
    throw new HTTPException(429, { res });
  }

  async function leaseFor(ip: string, now: number): Promise<Lease | undefined> {
    try {
      const grant = await namespace.get(namespace.idFromName(ip)).acquire(leaseSize);
      const lease: Lease = {
        tokens: grant.granted,
        remaining: grant.remaining,
        expiresAt: now + LEASE_MS,
        deniedUntil: grant.granted === 0 ? now + grant.retryAfterMs : 0,
      };
      if (leases.size >= MAX_LEASES) leases.delete(leases.keys().next().value!);
      leases.set(ip, lease);
      if (grant.granted === 0) limited(grant.retryAfterMs, grant.resetMs);
      return lease;
    } catch (error) {
      if (error instanceof HTTPException) throw error;
      console.error(JSON.stringify({ event: "rate_limiter_unreachable", error: String(error) }));
      if (onLimiterError === "fail-open") return undefined;
      throw new HTTPException(503, {
        res: problemResponse({ status: 503, detail: "the rate limiter cannot be reached; retry shortly" }, { "Retry-After": "1" }),
      });
    }
  }

  return async function rateLimit(c, next) {
    const ip = c.req.header(clientIpHeader) ?? "unknown";
    const now = Date.now();
    let lease = leases.get(ip);
    if (lease && now < lease.deniedUntil) limited(lease.deniedUntil - now, lease.deniedUntil - now);
    if (!lease || lease.tokens === 0 || now >= lease.expiresAt) lease = await leaseFor(ip, now);
    if (lease) {
      lease.tokens--;
      c.header("RateLimit-Policy", policyHeader);
      c.header("RateLimit", `"per-ip";r=${lease.tokens + lease.remaining};t=1`);
    }
    await next();
  };
}
