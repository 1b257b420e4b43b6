/**
 * X-Prediction-Token: a JWT (RFC 7519, HS256 under the FEEDBACK_SECRET; hono's jwt helper) saying
 * what a prediction was and whom it was given to, so that feedback on it can be trusted without a
 * lookup, on every gateway instance and on Cloudflare. Its `jti` is unique: the feedback ledger
 * (feedback-ledger.ts) counts each token once.
 */
import { sign, verify } from "hono/jwt";
import {
  JwtAlgorithmMismatch,
  JwtHeaderInvalid,
  JwtTokenExpired,
  JwtTokenIssuedAt,
  JwtTokenSignatureMismatched,
} from "hono/utils/jwt/types";
import type { RouteName } from "../../shared/inference/prediction-contract.ts";
import type { Problem } from "../../shared/http/problem.ts";

/** What the gateway says of a prediction, in the token. */
export interface Prediction {
  /** The request id. */
  rid: string;
  /** The variant that answered (workers/manifest.ts). */
  variant: string;
  /** How the request reached it. */
  route: RouteName;
  /** The model version that answered. */
  model: string;
  /** The label predicted. */
  label: string;
}

export interface PredictionClaims extends Prediction {
  /** The consumer the prediction was given to. */
  sub: string;
  /** The token's own id, unique: what the ledger counts. */
  jti: string;
  /** Issued at and expires at, seconds since the epoch. */
  iat: number;
  exp: number;
}

/** How long feedback on a prediction is taken. */
export const TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600;

export interface PredictionTokens {
  /** A token for this prediction, given to `consumer` (at `nowSeconds`, a test's clock). */
  sign(prediction: Prediction, consumer: string, nowSeconds?: number): Promise<string>;
  /** The claims of a token this gateway signed and that has not expired, or the problem with it. */
  verify(token: string): Promise<PredictionClaims | Problem>;
}

export function predictionTokens(secret: string | undefined): PredictionTokens {
  if (!secret || secret.length < 32)
    throw new Error("FEEDBACK_SECRET must be set, 32 characters or more");
  // Imported once per isolate: hono's helper would import a text key again for every token.
  let key: Promise<CryptoKey> | undefined;
  const keyOf = () =>
    (key ??= crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ));
  const refused = (detail: string): Problem => ({ status: 422, detail });

  return {
    async sign(prediction, consumer, nowSeconds = Date.now() / 1000) {
      const iat = Math.floor(nowSeconds);
      const claims: PredictionClaims = {
        ...prediction,
        sub: consumer,
        jti: crypto.randomUUID(),
        iat,
        exp: iat + TOKEN_LIFETIME_SECONDS,
      };
      return sign({ ...claims }, await keyOf(), "HS256");
    },
    async verify(token) {
      try {
        const claims = (await verify(token, await keyOf(), "HS256")) as Partial<PredictionClaims>;
        if (typeof claims.jti !== "string" || typeof claims.sub !== "string" || !claims.exp)
          return refused("the token is not a prediction token");
        return claims as PredictionClaims;
      } catch (error) {
        if (error instanceof JwtTokenExpired)
          return refused(
            `the token has expired (feedback is taken for ${TOKEN_LIFETIME_SECONDS / 86400} days)`,
          );
        // Another signature, another algorithm ("none" included), or issued in the future.
        if (
          error instanceof JwtTokenSignatureMismatched ||
          error instanceof JwtAlgorithmMismatch ||
          error instanceof JwtHeaderInvalid ||
          error instanceof JwtTokenIssuedAt
        )
          return refused("the token was not issued by this service");
        return refused("the token is malformed");
      }
    },
  };
}
