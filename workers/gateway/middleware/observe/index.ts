import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../../app-context.ts";

export interface Answered {
  path: string;
  /** The variant that answered, or "none" when the request was refused before one was chosen. */
  variant: string;
  /** How it reached that variant (stable, canary, debug), or "none". */
  route: string;
  /** The model version that answered, or "none". */
  model: string;
  status: number;
  seconds: number;
  /** The consumer it came from, once signed in. */
  consumer?: string;
}

export interface ObserveOptions {
  /** Told of every answer: where requests are counted by status, the one place (it picks which). */
  record: (answered: Answered) => void;
  /** Where the log lines go (workerd's log, on Cloudflare `wrangler tail`). */
  log?: (line: string) => void;
}

/**
 * Times each request, tells `record` of its answer, and writes one JSON log line for each refused
 * or failed one, on every route (nginx's access log has every request with its request id; a
 * line per success here cost ~15% of the CPU under load, through the log pipe).
 */
export function observe(options: ObserveOptions): MiddlewareHandler<GatewayEnv> {
  const log = options.log ?? console.log;
  return async function observe(c, next) {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const variant = c.get("variant") ?? "none";
    options.record({
      path: c.req.path,
      variant,
      route: c.get("route") ?? "none",
      model: c.get("model") ?? "none",
      status: c.res.status,
      seconds,
      consumer: c.get("signedIn")?.consumer.name,
    });
    if (c.res.status < 400) return;
    log(
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
