import { describe, expect, it } from "vitest";
import { interpolate, type QueryRange, stepFor } from "./prometheus.ts";

describe("a range query's step", () => {
  it("is about a point every 3 pixels of the panel's width, in whole seconds", () => {
    // An hour across 600 px: 200 points, 18 s apart.
    expect(stepFor({ from: 0, to: 3600 }, 600, 5)).toBe(18);
    expect(stepFor({ from: 0, to: 6 * 3600 }, 600, 5)).toBe(108);
  });

  it("is never finer than Prometheus's scrape interval", () => {
    expect(stepFor({ from: 0, to: 300 }, 600, 5)).toBe(5);
    expect(stepFor({ from: 0, to: 300 }, 600, 15)).toBe(15);
  });
});

describe("Grafana's variables in a query", () => {
  const range: QueryRange = { from: 0, to: 3600, step: 18, scrapeInterval: 5 };

  it("$__interval is the step", () => {
    expect(interpolate("rate(x[$__interval])", range)).toBe("rate(x[18s])");
  });

  it("$__rate_interval is the larger of a step plus a scrape and four scrapes", () => {
    expect(interpolate("rate(x[$__rate_interval])", range)).toBe("rate(x[23s])");
    expect(interpolate("rate(x[$__rate_interval])", { ...range, step: 5 })).toBe("rate(x[20s])");
  });

  it("$__range is the whole range, in ${} and [[]] forms too", () => {
    expect(interpolate("increase(x[${__range}])", range)).toBe("increase(x[3600s])");
    expect(interpolate("increase(x[[[__range]]])", range)).toBe("increase(x[3600s])");
  });

  it("a dashboard variable fails, naming it", () => {
    expect(() => interpolate('up{job="$job"}', range)).toThrow("$job: a variable not known");
  });

  it("a regex's end anchor is not a variable", () => {
    expect(interpolate('up{job=~"node$"}', range)).toBe('up{job=~"node$"}');
  });
});
