/**
 * GET /health: public, not rate limited, so it must cost the upstreams nothing per call, and it is
 * also the gateway's liveness probe (the watchdog's), so it must not wait for them. It answers from
 * the inference workers' state as last probed; a call that finds that state older than
 * PROBE_INTERVAL_MS starts a new probe in the background (one at a time). So a flood of /health
 * makes at most one probe of each upstream a second per gateway isolate, and a hung upstream
 * never makes /health itself hang. Only the very first call, with nothing known yet, waits.
 */
import { withTimeout } from "../../shared/http/with-timeout.ts";
import { bindingOf, VARIANTS, type Variant } from "../../manifest.ts";
import type { AppContext } from "../app-context.ts";

export const PROBE_INTERVAL_MS = 1000;
const PROBE_TIMEOUT_MS = 2000;

interface UpstreamState {
  ok: boolean;
  status?: number;
  error?: string;
}

interface Probed {
  checkedAt: number;
  /** Each variant's, by name. */
  upstreams: Record<Variant, UpstreamState>;
}

async function probe(upstream: Fetcher): Promise<UpstreamState> {
  try {
    const response = await withTimeout(PROBE_TIMEOUT_MS, (signal) =>
      upstream.fetch("http://upstream/health", { signal }),
    );
    await response.body?.cancel();
    return { ok: response.ok, status: response.status };
  } catch (error) {
    return {
      ok: false,
      error: (error as Error)?.name === "TimeoutError" ? "timeout" : "unreachable",
    };
  }
}

export interface HealthOptions {
  /** Told of each round of probes of the upstreams. */
  onProbe?: () => void;
}

/** One handler, and one probe state, for every route that serves it (the public app and Ops). */
export function health(options: HealthOptions = {}) {
  let lastProbe: Probed | undefined;
  /** When the probe under way started; a probe whose request was cancelled never clears it, so it expires. */
  let probeStartedAt = 0;

  async function probeUpstreams(env: Env): Promise<void> {
    probeStartedAt = Date.now();
    options.onProbe?.();
    try {
      const states = await Promise.all(VARIANTS.map((variant) => probe(env[bindingOf(variant)])));
      lastProbe = {
        checkedAt: Date.now(),
        upstreams: Object.fromEntries(
          VARIANTS.map((variant, i) => [variant, states[i]!]),
        ) as Record<Variant, UpstreamState>,
      };
    } finally {
      probeStartedAt = 0;
    }
  }

  return async function health(c: AppContext): Promise<Response> {
    const now = Date.now();
    const stale = !lastProbe || now - lastProbe.checkedAt >= PROBE_INTERVAL_MS;
    const probing = now - probeStartedAt < PROBE_TIMEOUT_MS;
    if (stale && !probing) {
      const probed = probeUpstreams(c.env);
      if (lastProbe) c.executionCtx.waitUntil(probed);
      else await probed;
    }
    if (!lastProbe)
      return c.json(
        { status: "unknown", detail: "the first probe of the upstreams is under way" },
        503,
        { "Retry-After": "1" },
      );
    const allOk = Object.values<UpstreamState>(lastProbe.upstreams).every(
      (upstream) => upstream.ok,
    );
    return c.json({
      status: allOk ? "ok" : "degraded",
      checked_ms_ago: Date.now() - lastProbe.checkedAt,
      upstreams: lastProbe.upstreams,
    });
  };
}
