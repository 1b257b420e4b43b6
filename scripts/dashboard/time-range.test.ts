import { describe, expect, it } from "vitest";
import { localTime, parseRange, parseTime } from "./time-range.ts";

const now = 1_800_000_000;

describe("a time of the range", () => {
  it("now is now", () => {
    expect(parseTime("now", now)).toBe(now);
  });

  it("now-<n><unit> is that long before now, in seconds, minutes, hours, days or weeks", () => {
    expect(parseTime("now-30s", now)).toBe(now - 30);
    expect(parseTime("now-15m", now)).toBe(now - 900);
    expect(parseTime("now-6h", now)).toBe(now - 6 * 3600);
    expect(parseTime("now-2d", now)).toBe(now - 2 * 86400);
    expect(parseTime("now-1w", now)).toBe(now - 604_800);
  });

  it("an ISO time is that time, with its offset", () => {
    expect(parseTime("2026-12-01T12:00:00Z", now)).toBe(Date.parse("2026-12-01T12:00:00Z") / 1000);
    expect(parseTime("2026-12-01T13:00:00+01:00", now)).toBe(
      Date.parse("2026-12-01T12:00:00Z") / 1000,
    );
  });

  it("anything else fails, saying what a time is", () => {
    expect(() => parseTime("yesterday", now)).toThrow("yesterday is not a time");
    expect(() => parseTime("now-1y", now)).toThrow("is not a time");
    expect(() => parseTime("now+1h", now)).toThrow("is not a time");
    // Date.parse would take these.
    expect(() => parseTime("1", now)).toThrow("is not a time");
    expect(() => parseTime("May 5", now)).toThrow("is not a time");
  });
});

describe("the range", () => {
  it("is from and to, in seconds", () => {
    expect(parseRange("now-1h", "now", now)).toEqual({ from: now - 3600, to: now });
  });

  it("fails when it does not start before it ends", () => {
    expect(() => parseRange("now", "now-1h", now)).toThrow("is not before its end");
    expect(() => parseRange("now", "now", now)).toThrow("is not before its end");
  });
});

describe("a time on the page", () => {
  it("is local, to the minute, with its offset from UTC", () => {
    expect(localTime(now)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC[+-]\d{2}:\d{2}\)$/);
  });
});
