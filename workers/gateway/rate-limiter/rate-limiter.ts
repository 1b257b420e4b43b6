/**
 * One Durable Object per client IP (idFromName), the authority on that client's budget.
 *
 * The TAT lives in memory and is written to storage only when it matters: when the client becomes
 * limited (so a restart cannot hand a limited client a fresh budget), and otherwise at most once a
 * second. A write per request cost an fsync each and halved throughput
 * (../shared/notes/chain-performance.md).
 */
import { DurableObject } from "cloudflare:workers";
import { policyFromVars, takeTokens, type Grant, type RatePolicy } from "./gcra.ts";

const PERSIST_INTERVAL_MS = 1000;
const TAT_KEY = "tat";

export class RateLimiter extends DurableObject<Env> {
  private tat = 0;
  private persistedTat = 0;
  private persistedAt = 0;
  private readonly policy: RatePolicy;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.policy = policyFromVars(env);
    ctx.blockConcurrencyWhile(async () => {
      this.tat = this.persistedTat = (await ctx.storage.get<number>(TAT_KEY)) ?? 0;
    });
  }

  /** Grants up to `want` tokens now (RPC from the gateway). */
  async acquire(want: number): Promise<Grant> {
    const now = Date.now();
    const grant = takeTokens(this.tat, now, want, this.policy);
    this.tat = grant.tat;
    const becameLimited = grant.granted < want && this.persistedTat !== this.tat;
    if (becameLimited || (this.tat !== this.persistedTat && now - this.persistedAt >= PERSIST_INTERVAL_MS)) {
      this.persistedTat = this.tat;
      this.persistedAt = now;
      await this.ctx.storage.put(TAT_KEY, this.tat);
    }
    return grant;
  }
}
