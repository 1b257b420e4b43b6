/**
 * The Generic Cell Rate Algorithm: a client's whole state is one number, its theoretical arrival
 * time (TAT). Tokens refill continuously at `ratePerSecond`; at most `burst` can be spent at once.
 * Computed lazily at each request: no timer, no alarm. Pure, so tests drive the clock.
 */
export interface RatePolicy {
  ratePerSecond: number;
  burst: number;
}

export interface Grant {
  /** Tokens granted now, 0 to `want`. */
  granted: number;
  /** The new theoretical arrival time, ms. */
  tat: number;
  /** Tokens still available after this grant. */
  remaining: number;
  /** When granted < want: ms until one more token is available. */
  retryAfterMs: number;
  /** ms until the full burst is available again. */
  resetMs: number;
}

// Absorbs floating-point error in the token count: a TAT near 1.7e12 ms is exact only to ~2.4e-4
// ms, which at a 1/3 ms interval (3,000/s) is ~1e-3 of a token. A token may come 0.1% early.
const EPSILON = 1e-3;

export function takeTokens(tat: number, now: number, want: number, policy: RatePolicy): Grant {
  const interval = 1000 / policy.ratePerSecond;
  const horizon = now + interval * policy.burst;
  const start = Math.max(tat, now);
  // From the lag (exactly 0 for an idle client), not from two large times' difference.
  const available = Math.max(0, Math.floor(policy.burst - (start - now) / interval + EPSILON));
  const granted = Math.min(want, available);
  const newTat = start + granted * interval;
  return {
    granted,
    tat: newTat,
    remaining: available - granted,
    retryAfterMs: granted < want ? Math.max(0, start + interval - horizon) : 0,
    resetMs: Math.max(0, newTat - now),
  };
}
