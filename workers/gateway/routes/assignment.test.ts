import { describe, expect, it } from "vitest";
import { assignmentKey, bucketOf, inCanary } from "./assignment.ts";

const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
const share = (percent: number) => keys.filter((k) => inCanary(k, percent)).length / keys.length;

describe("the canary's assignment", () => {
  it("is stable across releases: these keys keep these buckets (a new hash would move every client)", () => {
    expect([bucketOf("user-42"), bucketOf("team-a.user_7"), bucketOf("ip:192.0.2.1")]).toEqual([
      17.98, 98.87, 57.39,
    ]);
  });

  it("is uniform: each tenth of the buckets holds 10 ± 1 % of 20,000 similar keys", () => {
    const tenths = Array.from({ length: 10 }, () => 0);
    for (const key of keys) tenths[Math.floor(bucketOf(key) / 10)]!++;
    for (const count of tenths) expect(Math.abs(count / keys.length - 0.1)).toBeLessThan(0.01);
    expect(share(10)).toBeCloseTo(0.1, 1);
    expect(share(37.5)).toBeCloseTo(0.375, 1);
  });

  it("is monotone in the percentage: raising it only moves keys into the canary", () => {
    for (const [lower, higher] of [
      [0, 1],
      [10, 20],
      [20, 20.5],
      [50, 100],
    ] as const) {
      for (const key of keys) if (inCanary(key, lower)) expect(inCanary(key, higher)).toBe(true);
    }
    expect(share(0)).toBe(0);
    expect(share(100)).toBe(1);
  });

  it("takes the assignment key when it is a sane token, else the signed-in consumer, else the client's IP", () => {
    expect(assignmentKey("team-a.user_7", "team-a", "192.0.2.1")).toBe("team-a.user_7");
    for (const bad of ["has space", "x".repeat(129), "", "semi;colon"])
      expect(assignmentKey(bad, undefined, "192.0.2.1")).toBe("ip:192.0.2.1");
    expect(assignmentKey(undefined, undefined, "192.0.2.1")).toBe("ip:192.0.2.1");
    expect(assignmentKey(undefined, "team-a", "192.0.2.1")).toBe("consumer:team-a");
  });
});
