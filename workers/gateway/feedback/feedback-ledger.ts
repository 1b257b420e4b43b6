/**
 * The feedback ledger: one Durable Object with SQLite that remembers every prediction token's id
 * that feedback was counted for, with its label, until the token expires. So a token counts once,
 * on every gateway isolate and after a restart: sent again with the same label it is a repeat (a
 * client retrying after a lost answer), with another label a conflict. It holds at most
 * FEEDBACK_LEDGER_CAPACITY ids; full of unexpired ones, it refuses, and never forgets one early.
 */
import { DurableObject } from "cloudflare:workers";

export type LedgerEntry = { jti: string; label: string; expiresAt: number };

export type Recorded =
  | { result: "counted" }
  | { result: "repeat" }
  | { result: "conflict"; label: string }
  | { result: "full" };

export class FeedbackLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private held: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS seen (
        jti TEXT PRIMARY KEY, label TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS seen_by_expiry ON seen (expires_at);`);
    this.held = Number(this.sql.exec("SELECT COUNT(*) AS n FROM seen").one().n);
  }

  /** Counts `entry` unless its token was counted before; at `capacity`, expired ids make room first. */
  record(entry: LedgerEntry, capacity: number, nowSeconds = Date.now() / 1000): Recorded {
    const known = this.sql.exec("SELECT label FROM seen WHERE jti = ?", entry.jti).toArray()[0];
    if (known)
      return known.label === entry.label
        ? { result: "repeat" }
        : { result: "conflict", label: String(known.label) };
    if (this.held >= capacity) {
      // Counted from what the delete wrote, not by counting a million rows again.
      this.held -= this.sql.exec(
        "DELETE FROM seen WHERE expires_at <= ?",
        Math.floor(nowSeconds),
      ).rowsWritten;
      if (this.held >= capacity) return { result: "full" };
    }
    this.sql.exec(
      "INSERT INTO seen (jti, label, expires_at) VALUES (?, ?, ?)",
      entry.jti,
      entry.label,
      entry.expiresAt,
    );
    this.held++;
    return { result: "counted" };
  }
}
