import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { MiddlewareHandler } from "hono";
import { basicAuth } from "hono/basic-auth";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../../shared/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { metrics } from "../../gateway-metrics.ts";
import { parseUsers, PBKDF2_ITERATIONS, verifyPassword, type StoredHash } from "./password-hash.ts";

export interface BasicAuthOptions {
  /** The API_USERS secret: `user:pbkdf2-sha256$…` entries, one a line. */
  users: string | undefined;
  realm: string;
  /** How long a verified Authorization header is trusted without hashing again. */
  cacheSeconds: number;
}

/** Checked for an unknown user, so that a wrong name costs the same time as a wrong password. */
const UNKNOWN_USER_HASH: StoredHash = { iterations: PBKDF2_ITERATIONS, salt: new Uint8Array(16), hash: new Uint8Array(32) };
const MAX_CACHED_HEADERS = 10_000;

/** The cache key of an Authorization header: its SHA-256, so that no password is kept. */
const headerKey = (header: string) => bytesToHex(sha256(utf8ToBytes(header)));

/**
 * Basic Auth (hono/basic-auth) against salted PBKDF2 hashes. PBKDF2 is slow on purpose (~tens of
 * ms), so a verified Authorization header is remembered, by its SHA-256 and never the password,
 * for `cacheSeconds`. A remembered header is let through before hono's parser runs: that parsing
 * (atob, TextDecoder: calls into the runtime) and crypto.subtle's promise cost ~80 us of gateway
 * CPU per request under load, against a few us for this synchronous hash (@noble/hashes).
 * A failure is a 401 problem with a WWW-Authenticate challenge.
 */
export function basicAuthentication(options: BasicAuthOptions): MiddlewareHandler<GatewayEnv> {
  const users = parseUsers(options.users);
  const verifiedUntil = new Map<string, number>();
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;

  const check = basicAuth({
    realm: options.realm,
    verifyUser: async (username, password, c) => {
      const key = headerKey(c.req.header("Authorization") ?? "");
      const now = Date.now();
      const stored = users.get(username);
      const matches = await verifyPassword(password, stored ?? UNKNOWN_USER_HASH);
      if (!(stored && matches)) return false;
      if (verifiedUntil.size >= MAX_CACHED_HEADERS) verifiedUntil.delete(verifiedUntil.keys().next().value!);
      verifiedUntil.set(key, now + options.cacheSeconds * 1000);
      return true;
    },
  });

  return async function basicAuthentication(c, next) {
    if (users.size === 0) {
      throw new HTTPException(503, {
        res: problemResponse({ status: 503, detail: "the gateway has no users configured (secret API_USERS)" }),
      });
    }
    const header = c.req.header("Authorization");
    if (header !== undefined && (verifiedUntil.get(headerKey(header)) ?? 0) > Date.now()) {
      await next();
      return;
    }
    let authenticated = false;
    try {
      await check(c, async () => {
        authenticated = true;
        await next();
      });
    } catch (error) {
      if (authenticated || !(error instanceof HTTPException) || error.status !== 401) throw error;
      metrics.authFailures.inc();
      throw new HTTPException(401, {
        res: problemResponse(
          { status: 401, detail: "send valid credentials with HTTP Basic authentication" },
          { "WWW-Authenticate": challenge },
        ),
      });
    }
  };
}
