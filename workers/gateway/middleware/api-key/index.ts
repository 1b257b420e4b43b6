import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../../shared/http/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import { apiKeyHash, isWellFormedApiKey } from "../../consumers/api-key.ts";
import { unexpired, type ConsumerView, type KeyHolder } from "../../consumers/directory.ts";

export const API_KEY_HEADER = "X-API-Key";

export interface ApiKeyOptions {
  /** The consumers, with their keys' hashes (the directory's current view). */
  viewOf: (c: Context<GatewayEnv>) => Promise<ConsumerView>;
  realm: string;
  /** Told of each refused key. */
  onRefused?: () => void;
  /** Told of each request a key signed in (for its "last used"). */
  onSignedIn?: (holder: KeyHolder) => void;
}

/** The key a request carries: `Authorization: Bearer <key>`, else `X-API-Key: <key>`. */
function presentedKey(c: Context<GatewayEnv>): string | undefined {
  const authorization = c.req.header("Authorization");
  if (authorization && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  return c.req.header(API_KEY_HEADER)?.trim();
}

/**
 * Signs in a request that carries an API key (consumers/api-key.ts): a key of the wrong shape or
 * checksum is refused before any lookup; a well-formed one costs one SHA-256 and a map lookup,
 * never a password hash. An unknown, revoked or expired key gets the same 401 problem. A request
 * with no key goes on to Basic Auth.
 */
export function apiKeyAuthentication(options: ApiKeyOptions): MiddlewareHandler<GatewayEnv> {
  const onRefused = options.onRefused ?? (() => {});
  const onSignedIn = options.onSignedIn ?? (() => {});
  const unauthorized = () => {
    onRefused();
    return new HTTPException(401, {
      res: problemResponse(
        { status: 401, detail: "the API key is not valid (mistyped, unknown, revoked or expired)" },
        { "WWW-Authenticate": `Bearer realm="${options.realm}"` },
      ),
    });
  };

  return async function apiKeyAuthentication(c, next) {
    const key = presentedKey(c);
    if (key === undefined) return next();
    if (!isWellFormedApiKey(key)) throw unauthorized();
    const holder = (await options.viewOf(c)).keys.get(apiKeyHash(key));
    const now = Date.now();
    if (!holder || !unexpired(holder.expiresAt, now) || !unexpired(holder.consumer.expiresAt, now))
      throw unauthorized();
    c.set("signedIn", { consumer: holder.consumer, scopes: holder.scopes });
    onSignedIn(holder);
    return next();
  };
}
