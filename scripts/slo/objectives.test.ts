import { describe, expect, it } from "vitest";
import { loadSettings } from "../stack/settings.ts";
import { BURN_ALERTS, burnRate, LATENCY_BUCKETS, retentionFor } from "./objectives.ts";

describe("the SLO settings", () => {
  it("are settings.env's objectives, as fractions", () => {
    expect(loadSettings({}).slo).toEqual({
      windowDays: 30,
      availability: 0.999,
      latency: 0.99,
      latencySeconds: 0.05,
    });
  });

  it("refuse nonsense with the variable's name", () => {
    expect(() => loadSettings({ SLO_WINDOW_DAYS: "2" })).toThrow(
      /SLO_WINDOW_DAYS=2 must be a whole number of days, 3/,
    );
    expect(() => loadSettings({ SLO_WINDOW_DAYS: "7.5" })).toThrow(/SLO_WINDOW_DAYS=7.5/);
    expect(() => loadSettings({ SLO_AVAILABILITY: "100" })).toThrow(/SLO_AVAILABILITY=100 must/);
    expect(() => loadSettings({ SLO_AVAILABILITY: "0.999" })).toThrow(/SLO_AVAILABILITY=0.999/);
    expect(() => loadSettings({ SLO_AVAILABILITY: "lots" })).toThrow(/SLO_AVAILABILITY=lots/);
    // 14.4x of a 10% budget is more than every request: that page could never fire.
    expect(() => loadSettings({ SLO_LATENCY: "90" })).toThrow(/SLO_LATENCY=90 must .* above 93.0/);
    expect(() => loadSettings({ SLO_LATENCY_SECONDS: "0.03" })).toThrow(
      /SLO_LATENCY_SECONDS=0.03 must be one of the latency histogram's bounds: 0.01, 0.025, 0.05/,
    );
  });

  it("take any bucket as the latency threshold", () => {
    for (const bound of LATENCY_BUCKETS)
      expect(loadSettings({ SLO_LATENCY_SECONDS: String(bound) }).slo.latencySeconds).toBe(bound);
  });
});

describe("the burn rates", () => {
  it("are the workbook's for 30 days, and spend the same share of a longer window's budget", () => {
    expect(BURN_ALERTS.map((alert) => burnRate(30, alert))).toEqual([14.4, 6, 3, 1]);
    expect(BURN_ALERTS.map((alert) => burnRate(90, alert))).toEqual([43.2, 18, 9, 3]);
  });
});

describe("Prometheus's retention", () => {
  it("covers the SLO window", () => {
    expect(retentionFor(loadSettings({}).slo)).toBe("32d");
  });
});
