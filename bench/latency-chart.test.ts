import { describe, expect, it } from "vitest";
import { latencyChartPng } from "./latency-chart.ts";

const point = (name: string, p50Ms: number) => ({
  name,
  p50Ms,
  p90Ms: p50Ms * 2,
  p99Ms: p50Ms * 5,
});

describe("latency chart", () => {
  it("renders a PNG image of the load points", async () => {
    const png = await latencyChartPng(
      [point("v1, 16 connections", 12), point("v1, 1 connection", 1.6)],
      "bench",
    );
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    // IHDR: width and height, big-endian, after the signature and the chunk header.
    expect(png.readUInt32BE(16)).toBeGreaterThan(500);
    expect(png.readUInt32BE(20)).toBeGreaterThan(50);
  });

  it("draws what it is given: other figures give another image", async () => {
    const a = await latencyChartPng([point("v1", 12)], "bench");
    const b = await latencyChartPng([point("v1", 40)], "bench");
    expect(a.equals(b)).toBe(false);
  });
});
