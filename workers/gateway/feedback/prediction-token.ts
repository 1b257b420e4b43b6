/**
 * X-Prediction-Token: what a prediction was (request id, variant, model version, label, when),
 * signed with HMAC-SHA256 under the FEEDBACK_SECRET, so that feedback on it can be trusted
 * without any state: it works across gateway instances and on Cloudflare.
 * Format: base64url(JSON claims) "." base64url(signature).
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Problem } from "../../shared/http/problem.ts";
import { constantTimeEqual } from "../constant-time-equal.ts";

export interface PredictionClaims {
  /** Request id. */
  rid: string;
  /** Variant (workers/manifest.ts). */
  v: string;
  /** Model version. */
  m: string;
  /** Label predicted. */
  l: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
}

/** How long feedback on a prediction is taken. */
export const TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600;

const encoder = new TextEncoder();
const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (ch) =>
      ch.charCodeAt(0),
    );
  } catch {
    return undefined;
  }
}

export interface PredictionTokens {
  sign(claims: PredictionClaims): string;
  /** The claims of a token this gateway signed and that has not expired, or the problem with it. */
  verify(token: string, nowSeconds: number): PredictionClaims | Problem;
}

export function predictionTokens(secret: string | undefined): PredictionTokens {
  if (!secret || secret.length < 32)
    throw new Error("FEEDBACK_SECRET must be set, 32 characters or more");
  // Synchronous HMAC (noble, already the gateway's hash library): every prediction is signed, and
  // so nothing to await on the response path. (make bench: no measurable difference to crypto.subtle.)
  const key = encoder.encode(secret);
  const signatureOf = (body: string) => hmac(sha256, key, encoder.encode(body));
  const refused = (detail: string): Problem => ({ status: 422, detail });

  return {
    sign(claims) {
      const body = toBase64Url(encoder.encode(JSON.stringify(claims)));
      return `${body}.${toBase64Url(signatureOf(body))}`;
    },
    verify(token, nowSeconds) {
      const [body, signature, ...rest] = token.split(".");
      const signatureBytes = signature === undefined ? undefined : fromBase64Url(signature);
      if (!body || !signatureBytes || rest.length > 0) return refused("the token is malformed");
      if (!constantTimeEqual(signatureOf(body), signatureBytes))
        return refused("the token was not issued by this service");
      const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(body))) as PredictionClaims;
      if (nowSeconds - claims.iat > TOKEN_LIFETIME_SECONDS)
        return refused(
          `the token has expired (feedback is taken for ${TOKEN_LIFETIME_SECONDS / 86400} days)`,
        );
      return claims;
    },
  };
}
