/**
 * One Durable Object per client IP (idFromName), the authority on that client's budget.
 *
 * The TAT lives in memory. It is stored only when the client becomes limited, so that a restart
 * cannot hand a limited client a fresh budget; a client within its budget never costs a write
 * (a write is an fsync: one per request halved throughput, ../shared/notes/chain-performance.md).
 * Whatever was stored is deleted by an alarm once the budget is full again: then the stored TAT
 * says nothing a fresh object would not, and a flood of new addresses leaves no state behind.
 */
import { DurableObject } from "cloudflare:workers";
import { policyFromVars, takeTokens, type Grant, type RatePolicy } from "./gcra.ts";

const TAT_KEY = "tat";

export class RateLimiter extends DurableObject<Env> {
  private tat = 0;
  private persistedTat = 0;
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
    const grant = takeTokens(this.tat, Date.now(), want, this.policy);
    this.tat = grant.tat;
    if (grant.granted < want && this.tat !== this.persistedTat) {
      this.persistedTat = this.tat;
      await this.ctx.storage.put(TAT_KEY, this.tat);
      // The TAT is the moment the whole burst is available again.
      await this.ctx.storage.setAlarm(this.tat);
    }
    return grant;
  }

  /** The budget is full again (or will be at the new TAT, if the client spent more meanwhile). */
  override async alarm(): Promise<void> {
    if (this.tat > Date.now()) {
      await this.ctx.storage.setAlarm(this.tat);
      return;
    }
    await this.ctx.storage.deleteAll();
    this.persistedTat = 0;
  }
}
