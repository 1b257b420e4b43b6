import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { auth as parseBasicCredentials } from "hono/utils/basic-auth";
import { problemResponse } from "../../../shared/http/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { PASSWORD_SCOPES } from "../../consumers/consumer.ts";
import { unexpired, type Consumer, type ConsumerView } from "../../consumers/directory.ts";
import { ExpiringMap } from "./expiring-map.ts";
import type { HashBudget } from "./hash-budget.ts";
import { verifyPassword, type StoredHash } from "./password-hash.ts";

export interface BasicAuthOptions {
  /** The consumers, with their passwords (the directory's current view). */
  viewOf: (c: Context<GatewayEnv>) => Promise<ConsumerView>;
  /** Who is asking for a hash: the client's address (hash-budget.ts keeps one budget each). */
  addressOf: (c: Context<GatewayEnv>) => string;
  budget: HashBudget;
  realm: string;
  /**
   * How long a verified Authorization header is remembered, from its last use, and a refused one
   * from its refusal, without hashing again.
   */
  cacheSeconds: number;
  /** Told of each refusal: wrong or missing credentials (401), or no hash to be had (429). */
  onRefused?: (reason: "unauthorized" | "throttled") => void;
  /** Told of each sign-in by password (for the consumer's "last used"). */
  onSignedIn?: (consumer: Consumer) => void;
  /** Checks a password against its stored hash (PBKDF2; a test may count the calls). */
  verify?: (password: string, stored: StoredHash) => Promise<boolean>;
}

const MAX_CACHED_HEADERS = 10_000;
/** What a hash took before this isolate has timed one (PBKDF2-SHA256, 100,000 rounds, here). */
const FIRST_HASH_ESTIMATE_MS = 20;

/** The cache key of an Authorization header: its SHA-256, so that no password is kept. */
const headerKey = (header: string) => bytesToHex(sha256(utf8ToBytes(header)));

/** workerd's clock moves only at I/O: a timer before and after a hash lets it catch up. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
/** Hashes timed: the shortest of the last few is the estimate (others' hashes only ever add to one). */
const TIMED_HASHES = 16;

/**
 * Basic Auth against the consumers' salted PBKDF2 hashes, for requests that no API key signed in
 * (middleware/api-key runs first). PBKDF2 is slow on purpose and runs on the isolate's one thread,
 * so hashing is the one thing here a stranger can make expensive:
 * - a verified header is remembered by its SHA-256 (never the password) for `cacheSeconds` after
 *   its last use and let through while its consumer still has that password: a signed-in client
 *   never hashes, nor meets the budget;
 * - a refused header is remembered the same way, while the consumers are unchanged (a consumer
 *   added since may be its user): repeating it costs no hash;
 * - every other header needs a hash from `budget` (per address, then shared; hash-budget.ts), or
 *   gets a 429 problem with Retry-After. A name that is no consumer's needs one from the budget
 *   too but costs none: a timer as long as a hash takes stands in for it. Hashes and timers take
 *   turns in one lane, as hashes on the isolate's one thread would, so neither the answer nor its
 *   time tells which names exist, one guess at a time or many at once.
 * A failure is a 401 problem with a WWW-Authenticate challenge.
 */
export function basicAuthentication(options: BasicAuthOptions): MiddlewareHandler<GatewayEnv> {
  const { budget, cacheSeconds } = options;
  if (!(cacheSeconds > 0)) throw new Error(`cacheSeconds must be above 0, not ${cacheSeconds}`);
  const verified = new ExpiringMap<{ name: string; password: string }>(MAX_CACHED_HEADERS);
  /** Each refused header with the view it was refused by: a newer view may know its user. */
  const refused = new ExpiringMap<ConsumerView>(MAX_CACHED_HEADERS);
  const hashTimes: number[] = [FIRST_HASH_ESTIMATE_MS];
  const onRefused = options.onRefused ?? (() => {});
  const onSignedIn = options.onSignedIn ?? (() => {});
  const verify = options.verify ?? verifyPassword;
  const unauthorized = () => {
    onRefused("unauthorized");
    return new HTTPException(401, {
      res: problemResponse(
        { status: 401, detail: "send valid credentials: an API key, or HTTP Basic authentication" },
        { "WWW-Authenticate": `Basic realm="${options.realm}", charset="UTF-8"` },
      ),
    });
  };
  const throttled = (retryAfterMs: number) => {
    onRefused("throttled");
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return new HTTPException(429, {
      res: problemResponse(
        {
          status: 429,
          detail: `too many sign-ins with new credentials; retry in ${retryAfter} s`,
          "violated-policy": "sign-in",
        },
        { "Retry-After": String(retryAfter) },
      ),
    });
  };

  /**
   * Headers being checked now: the same header arriving meanwhile (a client's pool opening its
   * connections at once) waits for that check's verdict instead of spending a hash of its own. It
   * polls the caches on its own timer: a request may not await another request's promise.
   */
  const checking = new Set<string>();
  /** When the lane of hashes (and of the timers standing in for them) is free again. */
  let laneFreeAt = 0;
  const hashEstimate = () => Math.min(...hashTimes);

  /** The consumer's stored password (encoded) if `password` is it, after its turn in the lane. */
  async function check(consumer: Consumer | undefined, password: string) {
    const turn = Math.max(laneFreeAt, Date.now());
    laneFreeAt = turn + hashEstimate();
    await sleep(turn - Date.now());
    const stored = consumer?.password;
    if (!stored) {
      await sleep(hashEstimate());
      return undefined;
    }
    const started = Date.now();
    const matches = await verify(password, stored.hash);
    await sleep(0);
    if (hashTimes.push(Date.now() - started) > TIMED_HASHES) hashTimes.shift();
    return matches ? stored.encoded : undefined;
  }

  return async function basicAuthentication(c, next) {
    if (c.get("signedIn")) return next();
    const header = c.req.header("Authorization");
    if (header === undefined) throw unauthorized();
    const now = Date.now();
    const key = headerKey(header);
    const view = await options.viewOf(c);
    const remembered = verified.get(key, now);
    if (remembered) {
      const consumer = view.consumers.get(remembered.name);
      if (
        consumer?.password?.encoded === remembered.password &&
        unexpired(consumer.expiresAt, now)
      ) {
        // In use, it stays remembered: a signed-in client never meets the hash budget mid-flood.
        verified.set(key, remembered, now + cacheSeconds * 1000);
        c.set("signedIn", { consumer, scopes: PASSWORD_SCOPES });
        onSignedIn(consumer);
        return next();
      }
      verified.delete(key); // revoked, expired or its password changed: checked again
    }
    if (checking.has(key)) {
      for (let waited = 0; checking.has(key) && waited < 50 * hashEstimate(); waited += 5)
        await sleep(5);
      // Its verdict is in the caches now; past the wait (a check that hangs), this one checks too.
      if (!checking.has(key)) return basicAuthentication(c, next);
    }
    if (refused.get(key, now) === view) throw unauthorized();
    const credentials = parseBasicCredentials(c.req.raw);
    if (!credentials) throw unauthorized();
    const address = options.addressOf(c);
    const decision = budget.take(address, now);
    if (!decision.granted) throw throttled(decision.retryAfterMs);
    const candidate = view.consumers.get(credentials.username);
    const consumer = candidate && unexpired(candidate.expiresAt, now) ? candidate : undefined;
    checking.add(key);
    let password: string | undefined;
    try {
      password = await check(consumer, credentials.password);
    } finally {
      checking.delete(key);
    }
    const until = Date.now() + cacheSeconds * 1000;
    if (!consumer || password === undefined) {
      refused.set(key, view, until);
      throw unauthorized();
    }
    budget.trust(address, Date.now());
    verified.set(key, { name: consumer.name, password }, until);
    c.set("signedIn", { consumer, scopes: PASSWORD_SCOPES });
    onSignedIn(consumer);
    return next();
  };
}
