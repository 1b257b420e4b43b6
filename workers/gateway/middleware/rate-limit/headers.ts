/**
 * The RateLimit-Policy and RateLimit fields of the IETF draft (draft-ietf-httpapi-ratelimit-headers-12,
 * structured-field lists): every limit a request passed lists its policy in RateLimit-Policy, and
 * RateLimit carries the one closest to refusing (fewest requests left; of equals, the longest wait).
 */
export interface LimitState {
  /** The policy's name: "per-address", "per-consumer" or "daily". */
  name: string;
  /** Requests allowed a window. */
  quota: number;
  windowSeconds: number;
  /** Requests left now. */
  remaining: number;
  /** Seconds until the quota is whole again. */
  resetSeconds: number;
}

const policyItem = (s: LimitState) => `"${s.name}";q=${s.quota};w=${s.windowSeconds}`;
const limitItem = (s: LimitState) =>
  `"${s.name}";r=${Math.max(0, Math.floor(s.remaining))};t=${s.resetSeconds}`;

/** The two fields for a response that names this one limit (a 429's). */
export function rateLimitHeaders(state: LimitState): Record<string, string> {
  return { "RateLimit-Policy": policyItem(state), RateLimit: limitItem(state) };
}

const REMAINING = /;r=(\d+);t=(\d+)/;

/** Adds `state` to a response's fields: its policy to the list, and RateLimit if it is closer to refusing. */
export function announceLimit(headers: Headers, state: LimitState): void {
  const policies = headers.get("RateLimit-Policy");
  headers.set(
    "RateLimit-Policy",
    policies ? `${policyItem(state)}, ${policies}` : policyItem(state),
  );
  const current = REMAINING.exec(headers.get("RateLimit") ?? "");
  const remaining = Math.max(0, Math.floor(state.remaining));
  if (
    !current ||
    remaining < Number(current[1]) ||
    (remaining === Number(current[1]) && state.resetSeconds > Number(current[2]))
  )
    headers.set("RateLimit", limitItem(state));
}
