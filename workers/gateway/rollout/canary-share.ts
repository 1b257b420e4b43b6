/**
 * Each gateway isolate's view of the canary's share: the one set at run time in the RolloutState
 * object, else CANARY_PERCENT. Read again in the background once SHARE_REFRESH_MS old, and before
 * answering once SHARE_MAX_AGE_MS old, so a change reaches every request that comes 4 s after it,
 * on a busy isolate or an idle one, with no restart. When the object cannot be read, the share
 * last read stands (a rollout is not to jump for a blip), and is tried again in the background.
 */
import { withDeadline } from "../../shared/http/with-timeout.ts";

export const SHARE_REFRESH_MS = 2000;
export const SHARE_MAX_AGE_MS = 4000;

export interface CanaryShareOptions {
  /** The share set at run time, or null (the RolloutState object). */
  read: () => Promise<number | null>;
  /** CANARY_PERCENT: the share until one is set. */
  configured: number;
  deadlineMs: number;
  /** The clock (a test's own). */
  now?: () => number;
}

export interface CanaryShare {
  /** The share now, 0-100; a background read goes through `waitUntil` (at once without one). */
  percent(waitUntil?: (promise: Promise<unknown>) => void): Promise<number>;
}

export function canaryShare({
  read,
  configured,
  deadlineMs,
  now = Date.now,
}: CanaryShareOptions): CanaryShare {
  let known: { percent: number | null; readAt: number } | undefined;
  let reading: Promise<void> | undefined;
  const refresh = () =>
    (reading ??= withDeadline(deadlineMs, read())
      .then((percent) => {
        known = { percent, readAt: now() };
      })
      .catch((error) => {
        console.error(JSON.stringify({ event: "canary_share_unreadable", error: String(error) }));
        // Tried again in the background from the next request on; inline again in 2 s at most.
        known = { percent: known?.percent ?? null, readAt: now() - SHARE_REFRESH_MS };
      })
      .finally(() => {
        reading = undefined;
      }));
  return {
    async percent(waitUntil) {
      const age = known ? now() - known.readAt : Infinity;
      if (age >= SHARE_MAX_AGE_MS) await refresh();
      else if (age >= SHARE_REFRESH_MS) {
        if (waitUntil) waitUntil(refresh());
        else await refresh();
      }
      return known?.percent ?? configured;
    },
  };
}
