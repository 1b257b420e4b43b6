/**
 * The rollout's state: one Durable Object with SQLite, the one place where the canary's share is
 * set at run time (`npm run rollout -- canary PERCENT`, or the controller's steps), where an
 * automated rollout's plan and progress are kept, and where every change is logged with who made
 * it and why. It outlives a restart; every gateway isolate reads the share from it (canary-share.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { Rollout, RolloutStatus, ShareChange } from "./rollout-api.ts";

/** Changes kept in the history, newest first. */
const HISTORY_KEPT = 1000;

export class RolloutState extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS history (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
        percent REAL, reason TEXT NOT NULL);`);
  }

  private read<T>(key: string): T | null {
    const row = this.sql.exec("SELECT value FROM state WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(String(row.value)) as T) : null;
  }

  private write(key: string, value: unknown): void {
    this.sql.exec(
      "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }

  /** The share set at run time, or null: CANARY_PERCENT's. */
  canaryPercent(): number | null {
    return this.read<number>("canary_percent");
  }

  /** Sets the share (null: back to CANARY_PERCENT), logging who and why. */
  setCanary(actor: string, percent: number | null, reason: string, at = Date.now()): void {
    this.ctx.storage.transactionSync(() => this.writeShare(actor, percent, reason, at));
  }

  private writeShare(actor: string, percent: number | null, reason: string, at: number): void {
    if (percent !== null && !(Number.isFinite(percent) && percent >= 0 && percent <= 100))
      throw new RangeError(`a canary share is a percentage (0-100), not ${percent}`);
    this.write("canary_percent", percent);
    this.sql.exec(
      "INSERT INTO history (at, actor, percent, reason) VALUES (?, ?, ?, ?)",
      at,
      actor,
      percent,
      reason,
    );
    this.sql.exec(
      "DELETE FROM history WHERE id <= (SELECT MAX(id) FROM history) - ?",
      HISTORY_KEPT,
    );
  }

  /** The automated rollout, if one was ever started: its plan and where it is. */
  rollout(): Rollout | null {
    return this.read<Rollout>("rollout");
  }

  /**
   * Saves the rollout as `rollout`, and sets the share with it when `share` says so, both or
   * neither, if the rollout is still as `expected` says (its revision): the controller and an
   * operator's pause or abort never overwrite each other's change unseen, and a rollout never ends
   * with its share left up. Only the top step's running rollout may become "promoting".
   */
  saveRollout(
    actor: string,
    rollout: Rollout,
    expected: number | null,
    share?: { percent: number | null; reason: string },
    at = Date.now(),
  ): boolean {
    const current = this.rollout();
    if ((current?.revision ?? null) !== expected) return false;
    if (
      rollout.phase === "promoting" &&
      current?.phase !== "promoting" &&
      !(current?.phase === "running" && current.step === current.plan.steps.length - 1)
    )
      throw new RangeError("only a running rollout at its top step may promote");
    this.ctx.storage.transactionSync(() => {
      this.write("rollout", { ...rollout, revision: (expected ?? 0) + 1 });
      if (share) this.writeShare(actor, share.percent, share.reason, at);
    });
    return true;
  }

  status(historyLimit = 50): RolloutStatus {
    const history = this.sql
      .exec("SELECT at, actor, percent, reason FROM history ORDER BY id DESC LIMIT ?", historyLimit)
      .toArray()
      .map(
        (row): ShareChange => ({
          at: Number(row.at),
          actor: String(row.actor),
          percent: row.percent === null ? null : Number(row.percent),
          reason: String(row.reason),
        }),
      );
    return { canaryPercent: this.canaryPercent(), rollout: this.rollout(), history };
  }
}
