/**
 * The authority on the budgets of one shard of the clients: every client IP (and every consumer,
 * as `consumer:NAME`) hashes to one of a
 * fixed number of RateLimiter objects (see limiter-store.ts), which keeps each of its clients'
 * TAT in a Map.
 *
 * A fixed set, not one object per IP: local workerd gives each object a SQLite file on its first
 * read and keeps it after deleteAll, and each live object costs ~140 KB; 3,000 new addresses left
 * 3,004 files and +487 MB behind a minute later (test/e2e/new-clients.test.ts). Bounded this way whatever the number of addresses.
 *
 * Only what matters is kept:
 * - in memory, a client whose TAT is still ahead (an absent one has its full budget); the rest is
 *   swept out once a second;
 * - in storage, a limited client's TAT, so that a restart cannot hand it a fresh budget. A client
 *   within its budget never costs a write (a write is an fsync: one per request halved throughput,
 *   measured: ~1,300 against ~2,600 req/s without). An alarm deletes a stored TAT once that client's budget
 *   is full again: then it says nothing an absent entry would not.
 */
import { DurableObject } from "cloudflare:workers";
import { parseGatewayConfig } from "../config.ts";
import { takeTokens, type Grant, type RatePolicy } from "../gcra.ts";

const SWEEP_INTERVAL_MS = 1000;
/** storage.delete() takes at most 128 keys at a time. */
const DELETE_BATCH = 128;

export class RateLimiter extends DurableObject<Env> {
  /** Each client's theoretical arrival time, while it is ahead of now. */
  private readonly tats = new Map<string, number>();
  /** What storage holds: the TAT each limited client had when it was stored. */
  private readonly stored = new Map<string, number>();
  private alarmAt: number | null = null;
  private nextSweepAt = 0;
  private readonly policy: RatePolicy;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.policy = parseGatewayConfig(env).rateLimit;
    ctx.blockConcurrencyWhile(async () => {
      for (const [client, tat] of await ctx.storage.list<number>()) {
        this.stored.set(client, tat);
        this.tats.set(client, tat);
      }
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Grants `client` up to `want` tokens now (RPC from the gateway), under `policy` (a consumer's
   * own), else the per-address one of the vars.
   */
  async acquire(client: string, want: number, policy?: RatePolicy): Promise<Grant> {
    const now = Date.now();
    this.sweep(now);
    const grant = takeTokens(this.tats.get(client) ?? 0, now, want, policy ?? this.policy);
    this.tats.set(client, grant.tat);
    if (grant.granted < want && this.stored.get(client) !== grant.tat) {
      this.stored.set(client, grant.tat);
      await this.ctx.storage.put(client, grant.tat);
      // The TAT is the moment the client's whole burst is available again.
      if (this.alarmAt === null || grant.tat < this.alarmAt) await this.setAlarm(grant.tat);
    }
    return grant;
  }

  /** Deletes the stored TATs of clients whose budget is full again; the alarm moves to the next. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.alarmAt = null;
    const full: string[] = [];
    let next = Infinity;
    for (const client of this.stored.keys()) {
      // The client may have spent more since it was stored: its current TAT is the one in memory.
      const tat = this.tats.get(client) ?? 0;
      if (tat <= now) full.push(client);
      else next = Math.min(next, tat);
    }
    for (let i = 0; i < full.length; i += DELETE_BATCH) {
      const batch = full.slice(i, i + DELETE_BATCH);
      await this.ctx.storage.delete(batch);
      for (const client of batch) this.stored.delete(client);
    }
    if (next !== Infinity) await this.setAlarm(next);
  }

  private async setAlarm(at: number): Promise<void> {
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** Forgets clients whose TAT has passed (their budget is full): memory follows the active clients. */
  private sweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [client, tat] of this.tats) {
      if (tat <= now) this.tats.delete(client);
    }
  }
}
