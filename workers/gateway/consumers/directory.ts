/**
 * Each gateway isolate's view of the consumers: the registry's snapshot merged over the API_USERS
 * secret, read again in the background once it is REFRESH_MS old (so a change reaches every
 * isolate within a few seconds, with no restart), looked up in memory by every request.
 *
 * The secret and the store: a name in both is the store's (its limits, credentials and
 * revocation); a name only in the secret is a consumer with the default limits and its password.
 */
import { withDeadline } from "../../shared/http/with-timeout.ts";
import type { RatePolicy } from "../gcra.ts";
import {
  parseStoredHash,
  parseUsers,
  type StoredHash,
} from "../middleware/basic-auth/password-hash.ts";
import type { ConsumerEntry, ConsumerLimits, Scope, Snapshot } from "./consumer.ts";

/** How old a view may get before a request reads the registry again, in the background. */
export const REFRESH_MS = 2000;
/**
 * How old a view may be when it answers: past this, the request itself reads the registry first,
 * so a change (a revocation above all) is seen by every request that comes this long after it,
 * on a busy isolate or one that has been idle for an hour.
 */
export const MAX_AGE_MS = 4000;
/** How long a view is still used while the registry cannot be read; past it, sign-in fails closed. */
export const MAX_STALE_MS = 60_000;

/** The registry could not be read and this isolate's view is too old to trust (or there is none). */
export class DirectoryUnavailable extends Error {}

export interface Consumer {
  name: string;
  rate: RatePolicy;
  /** Requests a UTC day, or null for none. */
  daily: number | null;
  expiresAt: number | null;
  /** Its one password: the stored hash, and its encoded form (a cached sign-in tells by it that it still holds). */
  password?: { encoded: string; hash: StoredHash };
}

export interface KeyHolder {
  consumer: Consumer;
  keyId: string;
  scopes: readonly Scope[];
  expiresAt: number | null;
}

/** The defaults of a consumer that names no limit of its own (CONSUMER_* vars). */
export interface ConsumerDefaults {
  rate: RatePolicy;
  daily: number;
}

export interface ConsumerView {
  consumers: Map<string, Consumer>;
  keys: Map<string, KeyHolder>;
}

/** The registry as the directory needs it (the Durable Object, or a test's stand-in). */
export interface RegistryReader {
  snapshot(knownVersion: string, used: Record<string, number>): Promise<Snapshot>;
}

export interface DirectoryOptions {
  registry: RegistryReader;
  /** The API_USERS secret. */
  apiUsers: string | undefined;
  defaults: ConsumerDefaults;
  /** How long a read of the registry may take. */
  deadlineMs: number;
}

export interface Directory {
  /**
   * The current view: read again first when it is MAX_AGE_MS old (or there is none), in the
   * background through `waitUntil` (at once without one) when it is REFRESH_MS old, never twice at
   * a time. Throws DirectoryUnavailable when the registry cannot be read and the view is older
   * than MAX_STALE_MS.
   */
  view(waitUntil?: (promise: Promise<unknown>) => void): Promise<ConsumerView>;
  /** Notes that a credential (a key id, or `consumer:NAME` for a password) was used now. */
  used(credential: string): void;
}

/** Keeps the map of last uses bounded between two reads of the registry. */
const MAX_PENDING_USES = 10_000;

export function consumerDirectory(options: DirectoryOptions): Directory {
  const secretUsers = parseUsers(options.apiUsers);
  let view: ConsumerView | undefined;
  let version = "";
  let readAt = 0;
  let reading = false;
  let uses = new Map<string, number>();

  async function read(): Promise<void> {
    reading = true;
    const sent = uses;
    uses = new Map();
    try {
      const snapshot = await withDeadline(
        options.deadlineMs,
        options.registry.snapshot(version, Object.fromEntries(sent)),
      );
      if (snapshot.consumers) view = merge(secretUsers, snapshot.consumers, options.defaults);
      version = snapshot.version;
      readAt = Date.now();
    } catch (error) {
      // Not lost: sent again with the next read.
      for (const [credential, at] of sent) if (!uses.has(credential)) uses.set(credential, at);
      console.error(
        JSON.stringify({ event: "consumer_registry_unreachable", error: String(error) }),
      );
      throw error;
    } finally {
      reading = false;
    }
  }

  return {
    async view(waitUntil) {
      const age = Date.now() - readAt;
      if (!view || age >= MAX_AGE_MS) {
        try {
          await read();
        } catch {
          if (!view || Date.now() - readAt >= MAX_STALE_MS) throw new DirectoryUnavailable();
        }
      } else if (age >= REFRESH_MS && !reading) {
        if (waitUntil) waitUntil(read().catch(() => {}));
        else await read().catch(() => {});
      }
      return view!;
    },
    used(credential) {
      if (uses.size < MAX_PENDING_USES || uses.has(credential)) uses.set(credential, Date.now());
    },
  };
}

function consumerOf(
  name: string,
  limits: Partial<ConsumerLimits>,
  password: Consumer["password"],
  expiresAt: number | null,
  defaults: ConsumerDefaults,
): Consumer {
  const daily = limits.daily ?? defaults.daily;
  return {
    name,
    rate: {
      ratePerSecond: limits.ratePerSecond ?? defaults.rate.ratePerSecond,
      burst: limits.burst ?? defaults.rate.burst,
    },
    daily: daily > 0 ? daily : null,
    expiresAt,
    password,
  };
}

function merge(
  secretUsers: Map<string, { encoded: string; hash: StoredHash }>,
  stored: ConsumerEntry[],
  defaults: ConsumerDefaults,
): ConsumerView {
  const consumers = new Map<string, Consumer>();
  const keys = new Map<string, KeyHolder>();
  const inStore = new Set(stored.map((entry) => entry.name));
  for (const [name, { encoded, hash }] of secretUsers) {
    if (!inStore.has(name))
      consumers.set(name, consumerOf(name, {}, { encoded, hash }, null, defaults));
  }
  for (const entry of stored) {
    if (entry.revoked) continue;
    // The registry keeps one password a consumer (setPassword replaces).
    const [encoded] = entry.passwords;
    const password =
      encoded === undefined ? undefined : { encoded, hash: parseStoredHash(encoded) };
    const consumer = consumerOf(entry.name, entry.limits, password, entry.expiresAt, defaults);
    consumers.set(entry.name, consumer);
    for (const key of entry.keys)
      keys.set(key.sha256, {
        consumer,
        keyId: key.id,
        scopes: key.scopes,
        expiresAt: key.expiresAt,
      });
  }
  return { consumers, keys };
}

/** Whether a consumer or key with this expiry still holds now. */
export const unexpired = (expiresAt: number | null, now: number) =>
  expiresAt === null || expiresAt > now;
