/** The gateway's way to the feedback ledger: one FeedbackLedger object, named once. */
import type { FeedbackLedger, LedgerEntry } from "./feedback-ledger.ts";

export const LEDGER_NAME = "ledger";

export function ledgerOf(namespace: DurableObjectNamespace<FeedbackLedger>) {
  return {
    // A stub per call: a stub made during one request is not to be used for I/O in another.
    record: (entry: LedgerEntry, capacity: number) =>
      namespace.get(namespace.idFromName(LEDGER_NAME)).record(entry, capacity),
  };
}
