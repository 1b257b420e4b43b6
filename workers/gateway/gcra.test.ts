import { describe, expect, it } from "vitest";
import { takeTokens } from "./gcra.ts";

const policy = { ratePerSecond: 10, burst: 5 };

/** Takes one token at each of the given times, threading the state through. */
function run(times: number[]) {
  let tat = 0;
  return times.map((now) => {
    const grant = takeTokens(tat, now, 1, policy);
    tat = grant.tat;
    return grant;
  });
}

describe("GCRA", () => {
  it("lets a burst of 5 through at once and refuses the 6th", () => {
    expect(run([1000, 1000, 1000, 1000, 1000, 1000]).map((g) => g.granted)).toEqual([
      1, 1, 1, 1, 1, 0,
    ]);
  });

  it("says when the next token comes: one interval (100 ms) after the burst", () => {
    const refused = run([1000, 1000, 1000, 1000, 1000, 1000])[5]!;
    expect(refused.retryAfterMs).toBeCloseTo(100, 6);
    expect(refused.remaining).toBe(0);
  });

  it("refills as time passes: one token per 100 ms, the full burst after 500 ms", () => {
    const burst = [1000, 1000, 1000, 1000, 1000];
    expect(run([...burst, 1050]).at(-1)!.granted).toBe(0);
    expect(run([...burst, 1100]).at(-1)!.granted).toBe(1);
    expect(
      run([...burst, 1500, 1500, 1500, 1500, 1500])
        .map((g) => g.granted)
        .slice(5),
    ).toEqual([1, 1, 1, 1, 1]);
  });

  it("grants a lease of several tokens only as far as the budget goes", () => {
    expect(takeTokens(0, 1000, 8, policy).granted).toBe(5);
    expect(takeTokens(0, 1000, 3, policy)).toMatchObject({ granted: 3, remaining: 2 });
  });

  it("never lets a long-idle client save up more than the burst", () => {
    expect(takeTokens(0, 1_000_000, 100, policy).granted).toBe(5);
  });
});
