/**
 * What a consumer is, as the registry stores it and every gateway isolate reads it: a name with
 * limits, an optional expiry, and credentials (API keys with scopes, and passwords for the exam's
 * Basic Auth contract).
 */

/** What a credential may do: `predict` calls /predict (and gives feedback on it), `feedback` only /feedback. */
export const SCOPES = ["predict", "feedback"] as const;
export type Scope = (typeof SCOPES)[number];
/** What a new key may do unless it is given more. */
export const DEFAULT_SCOPES: readonly Scope[] = ["predict"];
/** What a password may do: the exam's contract, /predict and its feedback. */
export const PASSWORD_SCOPES: readonly Scope[] = ["predict"];

/** Names are metric labels and CLI arguments: short, and nothing that needs quoting. */
export const CONSUMER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A consumer's own limits; null falls back to the gateway's CONSUMER_* defaults. */
export interface ConsumerLimits {
  ratePerSecond: number | null;
  burst: number | null;
  /** Requests a UTC day; 0 means no daily quota. */
  daily: number | null;
}

export interface KeyEntry {
  id: string;
  /** The key's SHA-256, hex: all that is kept of it. */
  sha256: string;
  scopes: Scope[];
  expiresAt: number | null;
}

/** One consumer as the registry hands it to the gateways: active credentials only. */
export interface ConsumerEntry {
  name: string;
  limits: ConsumerLimits;
  expiresAt: number | null;
  /** Revoked consumers are listed too, so that the API_USERS secret cannot bring one back. */
  revoked: boolean;
  /** pbkdf2-sha256$… hashes. */
  passwords: string[];
  keys: KeyEntry[];
}

export interface Snapshot {
  /**
   * The registry's epoch (drawn when its storage was made) and its count of changes: a gateway
   * holding this version has nothing to read; a registry made anew never repeats one.
   */
  version: string;
  consumers?: ConsumerEntry[];
}

/** The day a daily quota counts in: its UTC date, and the ms until the next one begins. */
export function utcDay(now: number): { day: string; endsInMs: number } {
  const day = new Date(now).toISOString().slice(0, 10);
  return { day, endsInMs: Date.parse(`${day}T00:00:00Z`) + 86_400_000 - now };
}
