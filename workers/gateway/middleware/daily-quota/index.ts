import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../../shared/http/problem.ts";
import { withDeadline } from "../../../shared/http/with-timeout.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { utcDay } from "../../consumers/consumer.ts";
import type { QuotaLease } from "../../consumers/consumer-registry.ts";
import { announceLimit, rateLimitHeaders } from "../rate-limit/headers.ts";

/** Where the day's requests are counted (the registry, or a test's stand-in). */
export interface QuotaStore {
  /** Up to `want` of `consumer`'s requests of `day`, counted as used when granted. */
  leaseQuota(consumer: string, day: string, want: number, limit: number): Promise<QuotaLease>;
}

export type DailyQuotaOptions = {
  store: QuotaStore;
  /** Whose quota a request spends, and how large it is (null: none). */
  quotaOf: (c: Context<GatewayEnv>) => { consumer: string; daily: number | null };
  /** How long the store may take to answer before it counts as unreachable. */
  deadlineMs: number;
  /** Told of each request refused because the day's quota is spent. */
  onRefused?: (consumer: string) => void;
  /** Told after each request of what the consumer has used today, as this isolate knows it. */
  onUsed?: (consumer: string, used: number) => void;
} & ({ onStoreError: "fail-closed" } | { onStoreError: "fail-open" });

/** A block is 1% of the day's quota, at most 1,000 requests: one store call per block. */
export const blockSizeOf = (daily: number) => Math.max(1, Math.min(1000, Math.floor(daily / 100)));
/** Consumers whose block this isolate remembers; past this the oldest are forgotten (and their block). */
const MAX_BLOCKS = 10_000;

interface Block {
  day: string;
  /** The quota it was leased under: a changed quota (the operator's) starts afresh. */
  daily: number;
  /** Requests leased and not spent yet. */
  left: number;
  /** The day's usage when the store granted this block, the block included. */
  used: number;
  /** Set when the store refused: the quota is spent until the day ends. */
  spent: boolean;
}

/**
 * Each consumer's requests a UTC day. The store (the registry) counts a block as used when it
 * leases it, and this isolate spends it locally: no request but one a block waits for the store,
 * and the day's total never exceeds the quota, across isolates and restarts (a restart loses the
 * unspent rest of its block instead). One request at a time per consumer asks for a block; those
 * that arrive meanwhile ask for one request each.
 */
export function dailyQuota(options: DailyQuotaOptions): MiddlewareHandler<GatewayEnv> {
  const { store, quotaOf, deadlineMs, onStoreError } = options;
  const onRefused = options.onRefused ?? (() => {});
  const onUsed = options.onUsed ?? (() => {});
  const blocks = new Map<string, Block>();
  const leasing = new Set<string>();

  function spent(consumer: string, daily: number, endsInMs: number): never {
    onRefused(consumer);
    const retryAfter = Math.max(1, Math.ceil(endsInMs / 1000));
    throw new HTTPException(429, {
      res: problemResponse(
        {
          status: 429,
          detail: `${consumer}'s daily quota of ${daily} requests is spent; it renews at 00:00 UTC, in ${retryAfter} s`,
          "violated-policy": "daily",
        },
        {
          "Retry-After": String(retryAfter),
          ...rateLimitHeaders({
            name: "daily",
            quota: daily,
            windowSeconds: 86_400,
            remaining: 0,
            resetSeconds: retryAfter,
          }),
        },
      ),
    });
  }

  /** One request of the day: from the block, else from the store; undefined if it cannot be reached. */
  async function take(consumer: string, daily: number, day: string, endsInMs: number) {
    const block = blocks.get(consumer);
    if (block?.day === day && block.daily === daily) {
      if (block.spent) spent(consumer, daily, endsInMs);
      if (block.left > 0) {
        block.left--;
        return block;
      }
    }
    const batch = !leasing.has(consumer);
    if (batch) leasing.add(consumer);
    let lease: QuotaLease;
    try {
      lease = await withDeadline(
        deadlineMs,
        store.leaseQuota(consumer, day, batch ? blockSizeOf(daily) : 1, daily),
      );
    } catch (error) {
      console.error(JSON.stringify({ event: "quota_store_unreachable", error: String(error) }));
      return undefined;
    } finally {
      if (batch) leasing.delete(consumer);
    }
    const fresh: Block = {
      day,
      daily,
      left: lease.granted,
      used: lease.used,
      spent: lease.granted === 0,
    };
    // A single request's refusal replaces no block with requests left (the registry's last word
    // on those is the block's own).
    if (batch || (fresh.spent && !(blocks.get(consumer)?.left ?? 0))) {
      if (blocks.size >= MAX_BLOCKS) blocks.delete(blocks.keys().next().value!);
      blocks.set(consumer, fresh);
    }
    if (fresh.spent) spent(consumer, daily, endsInMs);
    fresh.left--;
    return fresh;
  }

  return async function dailyQuota(c, next) {
    const { consumer, daily } = quotaOf(c);
    if (daily === null) return next();
    const { day, endsInMs } = utcDay(Date.now());
    const block = await take(consumer, daily, day, endsInMs);
    if (!block) {
      if (onStoreError === "fail-closed")
        throw new HTTPException(503, {
          res: problemResponse(
            { status: 503, detail: "the quota store cannot be reached; retry shortly" },
            { "Retry-After": "1" },
          ),
        });
      return next();
    }
    await next();
    const used = block.used - block.left;
    onUsed(consumer, used);
    announceLimit(c.res.headers, {
      name: "daily",
      quota: daily,
      windowSeconds: 86_400,
      remaining: daily - used,
      resetSeconds: Math.max(1, Math.ceil(endsInMs / 1000)),
    });
  };
}
