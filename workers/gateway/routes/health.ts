/** GET /health: public, not rate limited; says whether each inference worker answers. */
import { withTimeout } from "../../shared/with-timeout.ts";
import type { AppContext } from "../app-context.ts";

const HEALTH_TIMEOUT_MS = 2000;

async function probe(upstream: Fetcher): Promise<{ ok: boolean; status?: number; error?: string }> {
  try {
    const response = await withTimeout(HEALTH_TIMEOUT_MS, (signal) => upstream.fetch("http://upstream/health", { signal }));
    await response.body?.cancel();
    return { ok: response.ok, status: response.status };
  } catch (error) {
    return { ok: false, error: (error as Error)?.name === "TimeoutError" ? "timeout" : "unreachable" };
  }
}

export async function health(c: AppContext): Promise<Response> {
  const [v1, v2] = await Promise.all([probe(c.env.V1), probe(c.env.V2)]);
  return c.json({ status: v1.ok && v2.ok ? "ok" : "degraded", upstreams: { v1, v2 } });
}
