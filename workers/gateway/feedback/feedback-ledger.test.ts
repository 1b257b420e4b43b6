/** The feedback ledger when full: it refuses new tokens rather than forget one, until ids expire. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FeedbackLedger } from "./feedback-ledger.ts";

const freshLedger = () =>
  env.FEEDBACK_LEDGER.get(env.FEEDBACK_LEDGER.idFromName(`test-${crypto.randomUUID()}`));

describe("the feedback ledger at its capacity", () => {
  it("refuses a new token, still knows every one it holds, and takes new ones once some expire", async () => {
    await runInDurableObject(freshLedger(), async (ledger: FeedbackLedger) => {
      const now = 1_800_000_000;
      const entry = (jti: string, expiresAt: number) => ({ jti, label: "love", expiresAt });
      expect(ledger.record(entry("a", now + 10), 2, now)).toEqual({ result: "counted" });
      expect(ledger.record(entry("b", now + 100), 2, now)).toEqual({ result: "counted" });
      expect(ledger.record(entry("c", now + 100), 2, now)).toEqual({ result: "full" });
      expect(ledger.record({ ...entry("a", now + 10), label: "hate" }, 2, now)).toEqual({
        result: "conflict",
        label: "love",
      });
      expect(ledger.record(entry("b", now + 100), 2, now)).toEqual({ result: "repeat" });
      // "a" expires: its room is the next token's; "b" is still known.
      expect(ledger.record(entry("c", now + 100), 2, now + 11)).toEqual({ result: "counted" });
      expect(ledger.record(entry("b", now + 100), 2, now + 11)).toEqual({ result: "repeat" });
      expect(ledger.record(entry("d", now + 100), 2, now + 11)).toEqual({ result: "full" });
    });
  });
});
