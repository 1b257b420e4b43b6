import { describe, expect, it } from "vitest";
import { shorten, wrap } from "./text.ts";

describe("a long name", () => {
  it("is cut in its middle, keeping its start and end", () => {
    expect(shorten(["v1 stable 0123456789abcdef 200"], 15)).toEqual(["v1 stab…def 200"]);
  });

  it("stays apart from another that cutting made alike", () => {
    expect(shorten(["aaaaaaaa-1-zzzz", "aaaaaaaa-2-zzzz"], 9)).toEqual([
      "aaaa…zzzz",
      "aaaa…zzzz (2)",
    ]);
  });

  it("is kept whole when it fits", () => {
    expect(shorten(["short"], 10)).toEqual(["short"]);
  });
});

describe("a panel's title", () => {
  it("is broken at words into lines that fit the panel's width", () => {
    const lines = wrap("Predictions by label, by variant and route (share of each one's)", 300, 14);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(Math.floor(300 / (14 * 0.8)));
    expect(lines.join(" ")).toBe(
      "Predictions by label, by variant and route (share of each one's)",
    );
  });
});
