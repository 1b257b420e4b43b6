import { describe, expect, it } from "vitest";
import { formatIn, formatNumber, formatValue, scaleFor } from "./units.ts";

describe("values in a panel's unit, as Grafana writes them", () => {
  it("s: microseconds, milliseconds, seconds, minutes and hours by size; zero in seconds", () => {
    expect(formatValue("s", 0.000_25)).toBe("250 µs");
    expect(formatValue("s", 0.0123)).toBe("12.3 ms");
    expect(formatValue("s", 2.5)).toBe("2.5 s");
    expect(formatValue("s", 90)).toBe("1.5 min");
    expect(formatValue("s", 7200)).toBe("2 hour");
    expect(formatValue("s", 0)).toBe("0 s");
  });

  it("percentunit: a ratio as a percentage", () => {
    expect(formatValue("percentunit", 0.456)).toBe("45.6%");
    expect(formatValue("percentunit", 1)).toBe("100%");
    expect(formatValue("percentunit", 0.0123)).toBe("1.23%");
    expect(formatValue("percentunit", -2.5)).toBe("-250%");
  });

  it("percent: a percentage as it is", () => {
    expect(formatValue("percent", 45.6)).toBe("45.6%");
  });

  it("reqps: requests per second, thousands as K", () => {
    expect(formatValue("reqps", 3.21)).toBe("3.21 req/s");
    expect(formatValue("reqps", 1500)).toBe("1.5 K req/s");
  });

  it("bytes: powers of 1024 (KiB, MiB, GiB)", () => {
    expect(formatValue("bytes", 512)).toBe("512 B");
    expect(formatValue("bytes", 2048)).toBe("2 KiB");
    expect(formatValue("bytes", 1.5 * 1024 ** 3)).toBe("1.5 GiB");
  });

  it("short: thousands as K, Mil, Bil", () => {
    expect(formatValue("short", 1)).toBe("1");
    expect(formatValue("short", 12_345)).toBe("12.3 K");
    expect(formatValue("short", 2_500_000)).toBe("2.5 Mil");
    expect(formatValue("short", 3e9)).toBe("3 Bil");
  });

  it("none: the number alone", () => {
    expect(formatValue("none", 12_345)).toBe("12345");
  });
});

describe("an axis's scale", () => {
  it("is the largest value's, so every tick of it is written in the same unit", () => {
    const scale = scaleFor("s", 0.5);
    expect(scale).toEqual({ divisor: 1e-3, suffix: " ms", name: "milliseconds" });
    expect(formatIn(scale, 0.0001)).toBe("0.1 ms");
  });

  it("names its unit in words for the axis's title, and nothing for a plain number", () => {
    expect(scaleFor("reqps", 3).name).toBe("requests per second");
    expect(scaleFor("bytes", 3 * 1024 ** 3).name).toBe("GiB");
    expect(scaleFor("short", 3).name).toBe("");
  });
});

describe("a number", () => {
  it("keeps about three significant digits and no trailing zeros", () => {
    expect(formatNumber(123.456)).toBe("123");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(1.2)).toBe("1.2");
    expect(formatNumber(0.001234)).toBe("0.0012");
    expect(formatNumber(0)).toBe("0");
  });
});
