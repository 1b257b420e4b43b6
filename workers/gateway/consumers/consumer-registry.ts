/**
 * The registry of consumers: one Durable Object with SQLite, the one place where consumers, their
 * keys and passwords, the management log and each consumer's daily usage are written. Gateways
 * read it as a snapshot (every few seconds, only when its version moved) and lease quota from it
 * in blocks, so no request waits for it. The same class runs on Cloudflare and here.
 */
import { DurableObject } from "cloudflare:workers";
import { parseStoredHash } from "../middleware/basic-auth/password-hash.ts";
import { apiKeyHash, newApiKey, randomBase62 } from "./api-key.ts";
import type { AuditEntry, ListedConsumer, ListedKey } from "../admin/admin-api.ts";
import {
  CONSUMER_NAME,
  DEFAULT_SCOPES,
  SCOPES,
  utcDay,
  type ConsumerEntry,
  type ConsumerLimits,
  type Scope,
  type Snapshot,
} from "./consumer.ts";

/** Days of usage kept after they end, for `consumers list` and an operator's questions. */
const USAGE_DAYS_KEPT = 7;

export interface AddConsumer {
  name: string;
  limits?: Partial<ConsumerLimits>;
  expiresAt?: number | null;
}

export interface QuotaLease {
  granted: number;
  /** The day's usage after this grant, leased blocks included. */
  used: number;
}

/** A refusal of a management call: its message is the operator's to read. */
export class RegistryError extends Error {}

type Row = Record<string, SqlStorageValue>;

export class ConsumerRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Drawn once, when this storage was made: a registry made anew never repeats a version. */
  private readonly epoch: number;
  private changes: number;
  private usagePrunedFor = "";

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS consumers (
        name TEXT PRIMARY KEY, rps REAL, burst INTEGER, daily INTEGER, expires_at INTEGER,
        created_at INTEGER NOT NULL, revoked_at INTEGER, last_used_at INTEGER);
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, consumer TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER);
      CREATE TABLE IF NOT EXISTS passwords (
        consumer TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS audit (
        at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT);
      CREATE TABLE IF NOT EXISTS daily_usage (
        consumer TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (consumer, day));
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    const meta = (key: string) =>
      this.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]
        ?.value;
    if (meta("epoch") === undefined)
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES ('epoch', ?)",
        Math.floor(Math.random() * 2 ** 48),
      );
    this.epoch = meta("epoch")!;
    this.changes = meta("version") ?? 0;
  }

  private get version(): string {
    return `${this.epoch}.${this.changes}`;
  }

  /**
   * The consumers, unless `knownVersion` is still current; and when each credential of `used` was
   * last used (what the gateway saw since it last asked), so that `list` can say.
   */
  snapshot(knownVersion: string, used: Record<string, number> = {}): Snapshot {
    for (const [credential, at] of Object.entries(used)) {
      if (credential.startsWith("consumer:"))
        this.sql.exec(
          "UPDATE consumers SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE name = ?",
          at,
          credential.slice("consumer:".length),
        );
      else
        this.sql.exec(
          "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?",
          at,
          credential,
        );
    }
    if (knownVersion === this.version) return { version: this.version };
    const now = Date.now();
    const consumers = new Map<string, ConsumerEntry>();
    for (const row of this.sql.exec<Row>("SELECT * FROM consumers")) {
      consumers.set(String(row.name), {
        name: String(row.name),
        limits: limitsOf(row),
        expiresAt: row.expires_at as number | null,
        revoked: row.revoked_at !== null,
        passwords: [],
        keys: [],
      });
    }
    for (const row of this.sql.exec<Row>("SELECT consumer, hash FROM passwords"))
      consumers.get(String(row.consumer))?.passwords.push(String(row.hash));
    for (const row of this.sql.exec<Row>(
      "SELECT * FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
      now,
    )) {
      consumers.get(String(row.consumer))?.keys.push({
        id: String(row.id),
        sha256: String(row.sha256),
        scopes: JSON.parse(String(row.scopes)) as Scope[],
        expiresAt: row.expires_at as number | null,
      });
    }
    return { version: this.version, consumers: [...consumers.values()] };
  }

  /**
   * Creates `spec.name`, or changes the limits and expiry given of an existing consumer; with a
   * credential, adds it in the same transaction (a key, returned once, or the password's hash).
   */
  addConsumer(
    actor: string,
    spec: AddConsumer,
    credential?: Credential,
  ): { id: string; key: string } | null {
    checkedName(spec.name);
    const limits = checkedLimits(spec.limits ?? {});
    checkedExpiry(spec.expiresAt);
    if (credential && "passwordHash" in credential) checkedPasswordHash(credential.passwordHash);
    else if (credential) {
      checkedScopes(credential.scopes);
      checkedExpiry(credential.expiresAt);
    }
    return this.mutate(() => {
      const existing = this.row("SELECT * FROM consumers WHERE name = ?", spec.name);
      if (!existing) {
        this.sql.exec(
          "INSERT INTO consumers (name, rps, burst, daily, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          spec.name,
          limits.ratePerSecond ?? null,
          limits.burst ?? null,
          limits.daily ?? null,
          spec.expiresAt ?? null,
          Date.now(),
        );
        this.record(actor, "add", spec.name, { limits, expiresAt: spec.expiresAt ?? null });
      } else {
        if (existing.revoked_at !== null)
          throw new RegistryError(`${spec.name} was revoked; a revoked name is not used again`);
        const changed = { ...limitsOf(existing), ...limits };
        this.sql.exec(
          "UPDATE consumers SET rps = ?, burst = ?, daily = ?, expires_at = ? WHERE name = ?",
          changed.ratePerSecond,
          changed.burst,
          changed.daily,
          spec.expiresAt === undefined ? existing.expires_at : spec.expiresAt,
          spec.name,
        );
        if (Object.keys(limits).length > 0 || spec.expiresAt !== undefined)
          this.record(actor, "change", spec.name, { limits, expiresAt: spec.expiresAt });
      }
      if (!credential) return null;
      if ("passwordHash" in credential) {
        this.setPassword(actor, spec.name, credential.passwordHash);
        return null;
      }
      return this.issueKey(actor, spec.name, credential.scopes, credential.expiresAt ?? null);
    });
  }

  /** A new key of `name`'s, shown here once: only its SHA-256 is kept. */
  issueKey(
    actor: string,
    name: string,
    scopes: readonly Scope[] = DEFAULT_SCOPES,
    expiresAt: number | null = null,
  ): { id: string; key: string } {
    checkedScopes(scopes);
    checkedExpiry(expiresAt);
    const key = newApiKey();
    const id = `${KEY_ID_PREFIX}${randomBase62(10)}`;
    this.mutate(() => {
      this.activeConsumer(name);
      this.sql.exec(
        "INSERT INTO api_keys (id, consumer, sha256, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        id,
        name,
        apiKeyHash(key),
        JSON.stringify([...new Set(scopes)]),
        Date.now(),
        expiresAt,
      );
      this.record(actor, "issue-key", name, { id, scopes, expiresAt });
    });
    return { id, key };
  }

  /**
   * Sets `name`'s password (its pbkdf2-sha256 hash, made by the caller: the password never comes
   * here), replacing the one before: one password a consumer, so a guess costs one hash.
   */
  setPassword(actor: string, name: string, hash: string): void {
    checkedPasswordHash(hash);
    this.mutate(() => {
      this.activeConsumer(name);
      this.sql.exec("DELETE FROM passwords WHERE consumer = ?", name);
      this.sql.exec(
        "INSERT INTO passwords (consumer, hash, created_at) VALUES (?, ?, ?)",
        name,
        hash,
        Date.now(),
      );
      this.record(actor, "set-password", name, null);
    });
  }

  /**
   * A new key in place of one (by its id, or a consumer's only active key), with its scopes and
   * expiry; the old one stops working after `graceSeconds`.
   */
  rotate(actor: string, nameOrKeyId: string, graceSeconds: number): { id: string; key: string } {
    if (!(Number.isFinite(graceSeconds) && graceSeconds >= 0))
      throw new RegistryError(`the grace period is seconds, 0 or more; not ${graceSeconds}`);
    const active = this.sql
      .exec<Row>(
        "SELECT * FROM api_keys WHERE (id = ? OR consumer = ?) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
        nameOrKeyId,
        nameOrKeyId,
        Date.now(),
      )
      .toArray();
    if (active.length !== 1)
      throw new RegistryError(
        active.length === 0
          ? `no active key of ${JSON.stringify(nameOrKeyId)} to rotate`
          : `${nameOrKeyId} has ${active.length} active keys (${active.map((k) => k.id).join(", ")}): rotate one by its id`,
      );
    const old = active[0]!;
    const until = Date.now() + graceSeconds * 1000;
    const oldExpiry = old.expires_at as number | null;
    return this.mutate(() => {
      this.sql.exec(
        "UPDATE api_keys SET expires_at = ? WHERE id = ?",
        oldExpiry === null ? until : Math.min(oldExpiry, until),
        old.id,
      );
      this.record(actor, "rotate", String(old.consumer), { id: old.id, graceSeconds });
      return this.issueKey(
        actor,
        String(old.consumer),
        JSON.parse(String(old.scopes)) as Scope[],
        oldExpiry,
      );
    });
  }

  /**
   * Revokes a consumer (every credential of it) or one key, by its id. A name the registry does not
   * know is recorded as revoked: so is a user of the API_USERS secret stopped, the store winning.
   */
  revoke(actor: string, nameOrKeyId: string): void {
    const now = Date.now();
    this.mutate(() => {
      if (this.row("SELECT name FROM consumers WHERE name = ?", nameOrKeyId)) {
        this.sql.exec("UPDATE consumers SET revoked_at = ? WHERE name = ?", now, nameOrKeyId);
        this.sql.exec(
          "UPDATE api_keys SET revoked_at = ? WHERE consumer = ? AND revoked_at IS NULL",
          now,
          nameOrKeyId,
        );
        this.sql.exec("DELETE FROM passwords WHERE consumer = ?", nameOrKeyId);
      } else if (
        this.row("SELECT id FROM api_keys WHERE id = ? AND revoked_at IS NULL", nameOrKeyId)
      ) {
        this.sql.exec("UPDATE api_keys SET revoked_at = ? WHERE id = ?", now, nameOrKeyId);
      } else if (!nameOrKeyId.startsWith(KEY_ID_PREFIX) && CONSUMER_NAME.test(nameOrKeyId)) {
        this.sql.exec(
          "INSERT INTO consumers (name, created_at, revoked_at) VALUES (?, ?, ?)",
          nameOrKeyId,
          now,
          now,
        );
      } else {
        throw new RegistryError(`no consumer or active key ${JSON.stringify(nameOrKeyId)}`);
      }
      this.record(actor, "revoke", nameOrKeyId, null);
    });
  }

  /** Names with their limits and keys (never a key itself, nor a hash). */
  list(): ListedConsumer[] {
    const { day } = utcDay(Date.now());
    const keys = new Map<string, ListedKey[]>();
    for (const row of this.sql.exec<Row>("SELECT * FROM api_keys ORDER BY created_at")) {
      const of = keys.get(String(row.consumer)) ?? [];
      of.push({
        id: String(row.id),
        scopes: JSON.parse(String(row.scopes)) as Scope[],
        createdAt: row.created_at as number,
        expiresAt: row.expires_at as number | null,
        revokedAt: row.revoked_at as number | null,
        lastUsedAt: row.last_used_at as number | null,
      });
      keys.set(String(row.consumer), of);
    }
    return this.sql
      .exec<Row>(
        `SELECT c.*, (SELECT COUNT(*) FROM passwords p WHERE p.consumer = c.name) AS password_count,
                (SELECT used FROM daily_usage u WHERE u.consumer = c.name AND u.day = ?) AS used_today
         FROM consumers c ORDER BY c.name`,
        day,
      )
      .toArray()
      .map((row) => ({
        name: String(row.name),
        limits: limitsOf(row),
        createdAt: row.created_at as number,
        expiresAt: row.expires_at as number | null,
        revokedAt: row.revoked_at as number | null,
        lastUsedAt: row.last_used_at as number | null,
        passwords: Number(row.password_count),
        usedToday: Number(row.used_today ?? 0),
        keys: keys.get(String(row.name)) ?? [],
      }));
  }

  /** The management log, oldest first. */
  auditLog(limit = 1000): AuditEntry[] {
    return this.sql
      .exec<Row>(
        "SELECT * FROM (SELECT rowid AS n, * FROM audit ORDER BY rowid DESC LIMIT ?) ORDER BY n",
        limit,
      )
      .toArray()
      .map((row) => ({
        at: row.at as number,
        actor: String(row.actor),
        action: String(row.action),
        subject: String(row.subject),
        detail: row.detail as string | null,
      }));
  }

  /**
   * Up to `want` of `consumer`'s requests of `day` (at most `limit` a day), counted as used when
   * granted: a gateway that restarts loses what it leased and did not spend, never hands out more.
   */
  leaseQuota(consumer: string, day: string, want: number, limit: number): QuotaLease {
    if (day !== this.usagePrunedFor) {
      this.usagePrunedFor = day;
      const oldest = new Date(Date.parse(`${day}T00:00:00Z`) - USAGE_DAYS_KEPT * 86_400_000);
      this.sql.exec("DELETE FROM daily_usage WHERE day < ?", oldest.toISOString().slice(0, 10));
    }
    const used = Number(
      this.row("SELECT used FROM daily_usage WHERE consumer = ? AND day = ?", consumer, day)
        ?.used ?? 0,
    );
    const granted = Math.max(0, Math.min(want, limit - used));
    if (granted > 0)
      this.sql.exec(
        `INSERT INTO daily_usage (consumer, day, used) VALUES (?, ?, ?)
         ON CONFLICT (consumer, day) DO UPDATE SET used = used + excluded.used`,
        consumer,
        day,
        granted,
      );
    return { granted, used: used + granted };
  }

  private row(query: string, ...bindings: SqlStorageValue[]): Row | undefined {
    return this.sql.exec<Row>(query, ...bindings).toArray()[0];
  }

  private activeConsumer(name: string): void {
    const row = this.row("SELECT revoked_at FROM consumers WHERE name = ?", name);
    if (!row) throw new RegistryError(`no consumer ${JSON.stringify(name)}`);
    if (row.revoked_at !== null) throw new RegistryError(`${name} was revoked`);
  }

  private record(actor: string, action: string, subject: string, detail: unknown): void {
    this.sql.exec(
      "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
      Date.now(),
      actor,
      action,
      subject,
      detail === null ? null : JSON.stringify(detail),
    );
  }

  /** Runs `change` in one transaction with the version's step: gateways read it at their next look. */
  private mutate<T>(change: () => T): T {
    const result = this.ctx.storage.transactionSync(() => {
      const done = change();
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES ('version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        this.changes + 1,
      );
      return done;
    });
    this.changes++;
    return result;
  }
}

function limitsOf(row: Row): ConsumerLimits {
  return {
    ratePerSecond: row.rps as number | null,
    burst: row.burst as number | null,
    daily: row.daily as number | null,
  };
}

export type Credential =
  | { scopes?: readonly Scope[]; expiresAt?: number | null }
  | { passwordHash: string };

const KEY_ID_PREFIX = "key_";

function checkedName(name: string): void {
  if (!CONSUMER_NAME.test(name) || name.startsWith(KEY_ID_PREFIX))
    throw new RegistryError(
      `a consumer's name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (and not "${KEY_ID_PREFIX}"); not ${JSON.stringify(name)}`,
    );
}

function checkedScopes(scopes: readonly Scope[] = DEFAULT_SCOPES): void {
  if (scopes.length === 0 || scopes.some((s) => !(SCOPES as readonly string[]).includes(s)))
    throw new RegistryError(`scopes are ${SCOPES.join(", ")}; not ${JSON.stringify(scopes)}`);
}

/** An expiry is a time in ms since the epoch, still ahead (or none). */
function checkedExpiry(at: number | null | undefined): void {
  if (at === null || at === undefined) return;
  if (!Number.isInteger(at) || at <= Date.now())
    throw new RegistryError(`an expiry is a time to come (ms since the epoch); not ${at}`);
}

function checkedPasswordHash(hash: string): void {
  try {
    parseStoredHash(hash);
  } catch (error) {
    throw new RegistryError(`the password hash is ${(error as Error).message}`);
  }
}

function checkedLimits(limits: Partial<ConsumerLimits>): Partial<ConsumerLimits> {
  const checks: Record<keyof ConsumerLimits, [string, (n: number) => boolean]> = {
    ratePerSecond: ["a number above 0", (n) => n > 0],
    burst: ["a whole number, 1 or more", (n) => Number.isInteger(n) && n >= 1],
    daily: ["a whole number, 0 (none) or more", (n) => Number.isInteger(n) && n >= 0],
  };
  for (const [name, value] of Object.entries(limits) as [keyof ConsumerLimits, number][]) {
    if (value === undefined) continue;
    const [what, ok] = checks[name];
    if (typeof value !== "number" || !Number.isFinite(value) || !ok(value))
      throw new RegistryError(`${name} is ${what}; not ${value}`);
  }
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}
