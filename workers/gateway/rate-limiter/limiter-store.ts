/**
 * Where the rate-limit middleware gets its tokens: one interface, the Durable Object store for the
 * worker, an in-memory one (with a clock of the caller's) for the middleware's tests.
 */
import { stableHash } from "../stable-hash.ts";
import { takeTokens, type Grant, type RatePolicy } from "../gcra.ts";
import type { RateLimiter } from "./rate-limiter.ts";

export interface LimiterStore {
  /**
   * Up to `want` tokens for `client` now, under `policy` (else the store's own). May reject or never
   * settle: the middleware bounds it.
   */
  acquire(client: string, want: number, policy?: RatePolicy): Promise<Grant>;
}

/**
 * Each client belongs to one of `shards` RateLimiter objects, by a stable hash of its key. Changing
 * the number of shards moves clients between objects: a limited client gets a fresh budget, once.
 */
export function durableObjectStore(
  namespace: DurableObjectNamespace<RateLimiter>,
  shards: number,
): LimiterStore {
  if (!Number.isInteger(shards) || shards < 1)
    throw new Error(`invalid RATE_LIMITER_SHARDS: ${shards}`);
  // A stub per call: a stub made during one request is not to be used for I/O in another.
  return {
    acquire: (client, want, policy) =>
      namespace
        .get(namespace.idFromName(`shard-${stableHash(client) % shards}-of-${shards}`))
        .acquire(client, want, policy),
  };
}

/** The same algorithm in this isolate's memory, on the caller's clock. */
export function memoryStore(policy: RatePolicy, now: () => number = Date.now): LimiterStore {
  const tats = new Map<string, number>();
  return {
    async acquire(client, want, own) {
      const grant = takeTokens(tats.get(client) ?? 0, now(), want, own ?? policy);
      tats.set(client, grant.tat);
      return grant;
    },
  };
}
