import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { auth as parseBasicCredentials } from "hono/utils/basic-auth";
import { problemResponse } from "../../../shared/http/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { takeTokens } from "../../gcra.ts";
import { parseUsers, PBKDF2_ITERATIONS, verifyPassword, type StoredHash } from "./password-hash.ts";

export interface BasicAuthOptions {
  /** The API_USERS secret: `user:pbkdf2-sha256$…` entries, one a line. */
  users: string | undefined;
  realm: string;
  /**
   * How long a verified Authorization header is remembered, from its last use, and a refused one
   * from its refusal, without hashing again.
   */
  cacheSeconds: number;
  /**
   * Password hashes this isolate may compute a second, all clients together (as many may come at
   * once). Past it, a header that would need one gets a 429: hashing blocks the isolate (~20 ms
   * each here), so this caps the share of its time that strangers can make it spend.
   */
  hashesPerSecond: number;
  /** Told of each refusal: wrong or missing credentials (401), or the hash budget spent (429). */
  onRefused?: (reason: "unauthorized" | "throttled") => void;
}

/** Checked for an unknown user, so that a wrong name costs the same time as a wrong password. */
const UNKNOWN_USER_HASH: StoredHash = {
  iterations: PBKDF2_ITERATIONS,
  salt: new Uint8Array(16),
  hash: new Uint8Array(32),
};
const MAX_CACHED_HEADERS = 10_000;

/** The cache key of an Authorization header: its SHA-256, so that no password is kept. */
const headerKey = (header: string) => bytesToHex(sha256(utf8ToBytes(header)));

/** Remembers keys until a deadline, forgetting the least recently added past MAX_CACHED_HEADERS. */
class ExpiringSet {
  private readonly until = new Map<string, number>();
  has(key: string, now: number): boolean {
    return (this.until.get(key) ?? 0) > now;
  }
  /** Remembers `key` until `until`, as the newest entry (so an entry in use is the last forgotten). */
  add(key: string, until: number): void {
    this.until.delete(key);
    if (this.until.size >= MAX_CACHED_HEADERS) this.until.delete(this.until.keys().next().value!);
    this.until.set(key, until);
  }
}

/**
 * Basic Auth against salted PBKDF2 hashes. PBKDF2 is slow on purpose and runs on the isolate's
 * one thread, so hashing is the one thing here a stranger can make expensive:
 * - a verified header is remembered by its SHA-256 (never the password) for `cacheSeconds` after
 *   its last use and let through before anything is parsed: a signed-in client never hashes, nor
 *   meets the budget;
 * - a refused header is remembered the same way: repeating it costs no hash;
 * - every other header spends one of `hashesPerSecond`, shared by all clients; when none is left,
 *   a 429 problem with Retry-After, so a flood of new guesses costs a bounded share of the isolate.
 * A failure is a 401 problem with a WWW-Authenticate challenge.
 */
export function basicAuthentication(options: BasicAuthOptions): MiddlewareHandler<GatewayEnv> {
  if (!(options.hashesPerSecond > 0))
    throw new Error(`hashesPerSecond must be above 0, not ${options.hashesPerSecond}`);
  const users = parseUsers(options.users);
  const budget = {
    ratePerSecond: options.hashesPerSecond,
    burst: Math.max(1, Math.floor(options.hashesPerSecond)),
  };
  let budgetTat = 0;
  const verified = new ExpiringSet();
  const refused = new ExpiringSet();
  const onRefused = options.onRefused ?? (() => {});
  const unauthorized = () => {
    onRefused("unauthorized");
    return new HTTPException(401, {
      res: problemResponse(
        { status: 401, detail: "send valid credentials with HTTP Basic authentication" },
        { "WWW-Authenticate": `Basic realm="${options.realm}", charset="UTF-8"` },
      ),
    });
  };

  /** One hash from the shared budget, or a 429. */
  function spendHash(now: number): void {
    const grant = takeTokens(budgetTat, now, 1, budget);
    budgetTat = grant.tat;
    if (grant.granted === 1) return;
    onRefused("throttled");
    const retryAfter = Math.max(1, Math.ceil(grant.retryAfterMs / 1000));
    throw new HTTPException(429, {
      res: problemResponse(
        {
          status: 429,
          detail: `too many sign-ins with new credentials at once; retry in ${retryAfter} s`,
        },
        { "Retry-After": String(retryAfter) },
      ),
    });
  }

  return async function basicAuthentication(c, next) {
    if (users.size === 0) {
      throw new HTTPException(503, {
        res: problemResponse({
          status: 503,
          detail: "the gateway has no users configured (secret API_USERS)",
        }),
      });
    }
    const header = c.req.header("Authorization");
    const now = Date.now();
    const key = header === undefined ? undefined : headerKey(header);
    if (key !== undefined && verified.has(key, now)) {
      // In use, it stays remembered: a signed-in client never meets the hash budget mid-flood.
      verified.add(key, now + options.cacheSeconds * 1000);
      return next();
    }
    if (key === undefined || refused.has(key, now)) throw unauthorized();
    const credentials = parseBasicCredentials(c.req.raw);
    if (!credentials) throw unauthorized();
    spendHash(now);
    const stored = users.get(credentials.username);
    const matches = await verifyPassword(credentials.password, stored ?? UNKNOWN_USER_HASH);
    const until = Date.now() + options.cacheSeconds * 1000;
    if (!(stored && matches)) {
      refused.add(key, until);
      throw unauthorized();
    }
    verified.add(key, until);
    return next();
  };
}
