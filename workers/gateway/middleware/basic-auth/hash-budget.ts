/**
 * How many password hashes the isolate computes, and for whom. Each hash is ~20 ms of the
 * isolate's one thread, so strangers get a bounded share of it, and no set of them can take all:
 * - every address has its own small budget (a second's worth, at least one hash), checked first:
 *   a flooding address spends its own budget, not everyone's;
 * - the addresses' hashes come from an open budget of (1 - RESERVED_SHARE) of `hashesPerSecond`;
 *   each address's rate is sized so that `floodAddresses` flooding together spend at most half of
 *   it, so a new client still finds a hash within a second or so;
 * - addresses that signed in before (remembered for a day, in this isolate) draw first on the
 *   reserved share, which no stranger can spend.
 * Beyond `floodAddresses` addresses, the flood can spend the open budget: new clients then wait
 * for a hash (429 + Retry-After) while the addresses that signed in before keep the reserved one.
 * The open budget's burst holds every covered address's first hash at once, so a flood's start
 * does not empty it either.
 */
import { takeTokens, type RatePolicy } from "../../gcra.ts";
import { ExpiringMap } from "./expiring-map.ts";

/** The share of the hashes kept for addresses that signed in before. */
export const RESERVED_SHARE = 0.4;
const TRUSTED_FOR_MS = 86_400_000;
const MAX_ADDRESSES = 10_000;

export interface HashBudgetOptions {
  /** Hashes a second, all addresses together. */
  hashesPerSecond: number;
  /** How many flooding addresses together must leave the open budget half unspent. */
  floodAddresses: number;
}

export type HashDecision = { granted: true } | { granted: false; retryAfterMs: number };

export interface HashBudget {
  /** One hash for `address` now, or how long until it could have one. */
  take(address: string, now: number): HashDecision;
  /** `address` signed in: it draws on the reserved share from now on. */
  trust(address: string, now: number): void;
  /** The policies, for a test or a README to state. */
  readonly policies: { open: RatePolicy; reserved: RatePolicy; perAddress: RatePolicy };
}

export function hashBudget(options: HashBudgetOptions): HashBudget {
  const { hashesPerSecond, floodAddresses } = options;
  if (!(hashesPerSecond > 0))
    throw new Error(`hashesPerSecond must be above 0, not ${hashesPerSecond}`);
  if (!(Number.isInteger(floodAddresses) && floodAddresses >= 1))
    throw new Error(`floodAddresses must be a whole number, 1 or more, not ${floodAddresses}`);
  const openRate = hashesPerSecond * (1 - RESERVED_SHARE);
  const reservedRate = hashesPerSecond * RESERVED_SHARE;
  const perAddressRate = openRate / (2 * floodAddresses);
  const perAddressBurst = Math.max(1, Math.floor(perAddressRate));
  const policies = {
    open: {
      ratePerSecond: openRate,
      burst: floodAddresses * perAddressBurst + Math.ceil(openRate),
    },
    reserved: { ratePerSecond: reservedRate, burst: Math.max(1, Math.ceil(reservedRate)) },
    perAddress: { ratePerSecond: perAddressRate, burst: perAddressBurst },
  };
  let openTat = 0;
  let reservedTat = 0;
  const addressTats = new ExpiringMap<number>(MAX_ADDRESSES);
  const trusted = new ExpiringMap<true>(MAX_ADDRESSES);

  return {
    policies,
    take(address, now) {
      const own = takeTokens(addressTats.get(address, now) ?? 0, now, 1, policies.perAddress);
      if (own.granted === 0) return { granted: false, retryAfterMs: own.retryAfterMs };
      const commitOwn = () => addressTats.set(address, own.tat, own.tat);
      if (trusted.has(address, now)) {
        const reserved = takeTokens(reservedTat, now, 1, policies.reserved);
        if (reserved.granted === 1) {
          reservedTat = reserved.tat;
          commitOwn();
          return { granted: true };
        }
      }
      const open = takeTokens(openTat, now, 1, policies.open);
      if (open.granted === 0) return { granted: false, retryAfterMs: open.retryAfterMs };
      openTat = open.tat;
      commitOwn();
      return { granted: true };
    },
    trust(address, now) {
      trusted.set(address, true, now + TRUSTED_FOR_MS);
    },
  };
}
