/**
 * The sticky canary: which variant a client's ordinary traffic goes to. A client's key (its
 * X-Assignment-Key when that is a sane token, else the consumer it signed in as, else its IP)
 * falls in one bucket of 10,000 for good;
 * the canary takes the buckets below CANARY_PERCENT. So the same key always gets the same
 * variant, and raising the percentage only moves keys from v1 to v2, never back.
 */
import { SANE_REQUEST_ID } from "../../shared/http/request-id.ts";
import { stableHash } from "../stable-hash.ts";

export const ASSIGNMENT_KEY_HEADER = "X-Assignment-Key";
const BUCKETS = 10_000;

/** Where a key falls, 0 to 99.99. */
export const bucketOf = (key: string): number => (stableHash(key) % BUCKETS) / (BUCKETS / 100);

export const inCanary = (key: string, percent: number): boolean => bucketOf(key) < percent;

/**
 * The client's assignment key: its header when a sane token (the request id's rule), else its
 * consumer, else its IP (a request routed before sign-in).
 */
export const assignmentKey = (
  header: string | undefined,
  consumer: string | undefined,
  clientIp: string,
): string =>
  header !== undefined && SANE_REQUEST_ID.test(header)
    ? header
    : consumer !== undefined
      ? `consumer:${consumer}`
      : `ip:${clientIp}`;
