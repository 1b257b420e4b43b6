import { describe, expect, it } from "vitest";
import { createRegistry, Histogram } from "./metrics.ts";

describe("Histogram", () => {
  it("renders cumulative buckets, +Inf, sum and count per label set", () => {
    const histogram = new Histogram("t_seconds", "time", [0.1, 1]);
    histogram.observe(0.05, { variant: "v1" });
    histogram.observe(0.5, { variant: "v1" });
    histogram.observe(5, { variant: "v1" });
    expect(histogram.render()).toBe(
      [
        "# HELP t_seconds time",
        "# TYPE t_seconds histogram",
        't_seconds_bucket{variant="v1",le="0.1"} 1',
        't_seconds_bucket{variant="v1",le="1"} 2',
        't_seconds_bucket{variant="v1",le="+Inf"} 3',
        't_seconds_sum{variant="v1"} 5.55',
        't_seconds_count{variant="v1"} 3',
        "",
      ].join("\n"),
    );
  });

  it("keeps one series per label set however many observations (constant memory)", () => {
    const histogram = new Histogram("t_seconds", "time", [1]);
    for (let i = 0; i < 100_000; i++) histogram.observe(0.5);
    expect(histogram.render()).toContain("t_seconds_count 100000");
    expect(histogram.render().trimEnd().split("\n")).toHaveLength(6);
  });

  it("escapes quotes, backslashes and newlines in label values", () => {
    const histogram = new Histogram("t_seconds", "time", [1]);
    histogram.observe(0.5, { path: 'a"b\\c\nd' });
    expect(histogram.render()).toContain('t_seconds_count{path="a\\"b\\\\c\\nd"} 1');
  });
});

describe("createRegistry", () => {
  it("renders counters, gauges and histograms together", () => {
    const registry = createRegistry();
    registry.counter("c_total", "count").inc({ a: "1" });
    registry.histogram("h_seconds", "time", [1]).observe(0.2);
    const text = registry.metrics();
    expect(text).toMatch(/^c_total\{a="1"\} 1$/m);
    expect(text).toMatch(/^h_seconds_count 1$/m);
  });
});
