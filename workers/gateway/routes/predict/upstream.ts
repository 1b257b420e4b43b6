/**
 * The call to a variant: the gateway's request to its worker, bounded by a timeout, sent again when
 * a kept-alive connection fails at once, and answered with a problem when the variant cannot be
 * reached (503) or is too slow (504).
 */
import { PAYLOAD_HEADER } from "../../../shared/inference/prediction-contract.ts";
import { problemResponse } from "../../../shared/http/problem.ts";
import { REQUEST_ID_HEADER } from "../../../shared/http/request-id.ts";
import { withTimeout } from "../../../shared/http/with-timeout.ts";
import { bindingOf, type Variant } from "../../../manifest.ts";
import type { AppContext } from "../../app-context.ts";

/** Sends of one request to an upstream whose connection fails at once. */
const MAX_ATTEMPTS = 3;
const RESEND_PAUSE_MS = 5;

/** Where a request goes, and in which shape the answer comes back. */
export interface Route {
  variant: Variant;
  /** "plain": the stable variant's body whatever the variant (a canary answer). */
  payload: "own" | "plain";
}

export interface UpstreamOptions {
  timeoutMs: number;
  /** Told when a request is sent to an upstream again after its connection failed at once. */
  onResend?: (variant: Variant) => void;
}

/** Asks the route's variant to classify `sentence` (valid, trimmed). */
export async function callVariant(
  c: AppContext,
  { variant, payload }: Route,
  sentence: string,
  { timeoutMs, onResend }: UpstreamOptions,
): Promise<Response> {
  const upstream = c.env[bindingOf(variant)];
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    [REQUEST_ID_HEADER]: c.get("requestId"),
  };
  if (payload === "plain") headers[PAYLOAD_HEADER] = "plain";
  const send = (signal: AbortSignal) =>
    upstream.fetch("http://upstream/predict", {
      method: "POST",
      headers,
      body: JSON.stringify({ sentence }),
      signal,
    });
  try {
    return await withTimeout(timeoutMs, async (signal) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await send(signal);
        } catch (error) {
          // Kept-alive connections that the other side closed at that moment (nginx reloading, a
          // replica restarting) fail at once, and the pool may hold several: send again, up to
          // MAX_ATTEMPTS in all. Safe, as a prediction has no side effects; never after a timeout.
          if ((error as Error)?.name === "TimeoutError" || attempt === MAX_ATTEMPTS) throw error;
          onResend?.(variant);
          // The pause lets the runtime notice the other closed connections of its pool and drop
          // them: sent again at once, all three attempts met closed connections (measured).
          await new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS));
        }
      }
    });
  } catch (error) {
    console.error(
      JSON.stringify({
        event: "upstream_error",
        variant,
        request_id: c.get("requestId"),
        error: String(error),
      }),
    );
    if ((error as Error)?.name === "TimeoutError") {
      return problemResponse({
        status: 504,
        detail: `the ${variant} model did not answer within ${timeoutMs} ms`,
      });
    }
    return problemResponse(
      { status: 503, detail: `the ${variant} model cannot be reached; retry shortly` },
      { "Retry-After": "5" },
    );
  }
}
