/**
 * Sign-in under a wrong-password flood, against a stack with the shipped per-address limit
 * (make test starts one for this file alone: the end-to-end stack's 0.02/s stops any flood before
 * it reaches sign-in). While one address, and then twenty, flood: a new password user and a new
 * key holder get their first prediction within 2 s, a verified client's p90 stays within 3x of its
 * own baseline, and nothing answers 5xx.
 */
import { describe, expect, it } from "vitest";
import { settings } from "./client.ts";
import { FIRST_PREDICTION_WITHIN_MS, P90_WITHIN, signInFlood } from "./sign-in-flood.ts";

describe("a wrong-password flood", () => {
  it("runs against the shipped per-address limit, which lets a flooding address reach sign-in ten times a second", () => {
    expect(Number(settings.gatewayVars.RATE_LIMIT_RPS)).toBeGreaterThanOrEqual(10);
  });

  it.each([1, 20])(
    "from %i address(es) lets a new password user and a new key holder in within 2 s, keeps a verified client's p90 within 3x of its baseline, and answers no 5xx",
    async (addresses) => {
      const figures = await signInFlood(settings, addresses);
      const report = JSON.stringify(figures);
      expect(figures.newKeyHolderMs, report).toBeLessThanOrEqual(FIRST_PREDICTION_WITHIN_MS);
      expect(figures.newPasswordUserMs, report).toBeLessThanOrEqual(FIRST_PREDICTION_WITHIN_MS);
      expect(
        figures.verifiedStatuses.filter((s) => s !== 200),
        report,
      ).toEqual([]);
      expect(figures.verifiedStatuses.length, report).toBeGreaterThanOrEqual(10);
      expect(figures.verifiedDuringP90, report).toBeLessThanOrEqual(
        P90_WITHIN * figures.verifiedBaselineP90,
      );
      const fiveHundreds = Object.keys(figures.floodAnswers).filter(
        (s) => s.startsWith("5") || s === "error",
      );
      expect(fiveHundreds, report).toEqual([]);
      // The flood reached sign-in: refused there (401, 429 "sign-in"), not only by the address's limit.
      expect(figures.floodAnswers["401"] ?? 0, report).toBeGreaterThan(0);
    },
    60_000,
  );
});
