import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../../app-context.ts";

export interface Answered {
  /** v1, v2, or "none" when the request was refused before a variant was chosen. */
  variant: string;
  /** The model version that answered, or "none". */
  model: string;
  status: number;
  seconds: number;
}

export interface ObserveOptions {
  /** Told of every answer: where requests are counted by status, the one place. */
  record: (answered: Answered) => void;
}

/**
 * Counts and times each request, and writes one JSON log line for each refused or failed one
 * (nginx's access log has every request with its request id; a line per success here cost ~15%
 * of the CPU under load, through the log pipe). Mounted on /predict only, so that health checks
 * and scrapes do not drown the figures that matter.
 */
export function observe(options: ObserveOptions): MiddlewareHandler<GatewayEnv> {
  return async function observe(c, next) {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const variant = c.get("variant") ?? "none";
    options.record({ variant, model: c.get("model") ?? "none", status: c.res.status, seconds });
    if (c.res.status < 400) return;
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
