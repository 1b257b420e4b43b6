/**
 * The management API's shapes, shared by the Admin entrypoint (admin/app.ts, the registry) and the
 * CLI that calls it (scripts/consumers.ts): types only, so Node can import them.
 */
import type { ConsumerLimits, Scope } from "../consumers/consumer.ts";

export const OPERATOR_HEADER = "X-Operator";

export interface AddRequest {
  name: string;
  ratePerSecond?: number;
  burst?: number;
  daily?: number;
  /** ms since the epoch. */
  expiresAt?: number;
  scopes?: Scope[];
  /** A pbkdf2-sha256 hash: the consumer gets this password instead of a key. */
  passwordHash?: string;
}

export interface ListedKey {
  id: string;
  scopes: Scope[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface ListedConsumer {
  name: string;
  limits: ConsumerLimits;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  passwords: number;
  usedToday: number;
  keys: ListedKey[];
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  subject: string;
  detail: string | null;
}
