import { describe, expect, it } from "vitest";
import { withTimeout } from "./with-timeout.ts";

describe("withTimeout", () => {
  it("aborts a call that outlives the delay, as a TimeoutError", async () => {
    const never = (signal: AbortSignal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    await expect(withTimeout(20, never)).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("returns what a quick call gives, leaving no timer behind", async () => {
    let aborted = false;
    const result = await withTimeout(20, async (signal) => {
      signal.addEventListener("abort", () => (aborted = true));
      return 42;
    });
    await new Promise((r) => setTimeout(r, 40));
    expect(result).toBe(42);
    expect(aborted).toBe(false);
  });
});
