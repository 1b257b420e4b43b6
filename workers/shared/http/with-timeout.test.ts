import { describe, expect, it } from "vitest";
import { withDeadline, withTimeout } from "./with-timeout.ts";

describe("withTimeout", () => {
  it("aborts a call that outlives the delay, as a TimeoutError", async () => {
    const never = (signal: AbortSignal) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
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

describe("withDeadline", () => {
  it("rejects with a TimeoutError when the promise does not settle in time", async () => {
    const started = Date.now();
    await expect(withDeadline(30, new Promise(() => {}))).rejects.toMatchObject({
      name: "TimeoutError",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("gives what a settled promise holds, its error included", async () => {
    expect(await withDeadline(30, Promise.resolve("answered"))).toBe("answered");
    await expect(withDeadline(30, Promise.reject(new Error("refused")))).rejects.toThrow("refused");
  });
});
