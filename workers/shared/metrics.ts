/**
 * The Prometheus registry of one worker process. promjs-plus is a small, dependency-free registry
 * that runs in workerd (prom-client needs Node's cluster/perf_hooks). Conventions: base units,
 * `_total` counters, `_seconds` histograms.
 */
import prom from "promjs-plus";

export type Registry = ReturnType<typeof prom>;

export function createRegistry(): Registry {
  return prom();
}

/** Latency buckets in seconds, from a cached inference (~0.1 ms) to an upstream timeout. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function metricsResponse(registry: Registry): Response {
  return new Response(registry.metrics(), { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
}
