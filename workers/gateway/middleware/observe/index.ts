import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../../app-context.ts";
import { metrics } from "../../gateway-metrics.ts";

/**
 * Counts and times each request, and writes one JSON log line for it. Mounted on /predict only,
 * so that health checks and scrapes do not drown the figures that matter.
 */
export function observe(): MiddlewareHandler<GatewayEnv> {
  return async function observe(c, next) {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const variant = c.get("variant") ?? "none";
    const status = String(c.res.status);
    metrics.requests.inc({ variant, status });
    metrics.duration.observe(seconds, { variant });
    console.log(
      JSON.stringify({
        request_id: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        variant,
        duration_ms: Number((seconds * 1000).toFixed(3)),
      }),
    );
  };
}
