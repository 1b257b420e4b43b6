/**
 * The call to a variant: the gateway's request to its worker, bounded by a timeout, sent again when
 * a kept-alive connection fails at once, and answered with a problem of the gateway's own when the
 * variant cannot be reached (503), is too slow (504) or answers with an error (502, or 503 when it
 * says to retry).
 */
import { ROUTE_HEADER, type RouteName } from "../../../shared/inference/prediction-contract.ts";
import { problemResponse } from "../../../shared/http/problem.ts";
import { REQUEST_ID_HEADER } from "../../../shared/http/request-id.ts";
import { withTimeout } from "../../../shared/http/with-timeout.ts";
import { bindingOf, type Variant } from "../../../manifest.ts";
import type { AppContext } from "../../app-context.ts";

/** Sends of one request to an upstream whose connection fails at once. */
const MAX_ATTEMPTS = 3;
const RESEND_PAUSE_MS = 5;

/** Where a request goes, and how it got there (which also says in which shape it is answered). */
export interface Route {
  variant: Variant;
  name: RouteName;
}

export interface UpstreamOptions {
  timeoutMs: number;
  /** Sends at most, when a connection fails at once: MAX_ATTEMPTS unless fewer are asked. */
  attempts?: number;
  /** Told when a request is sent to an upstream again after its connection failed at once. */
  onResend?: (variant: Variant) => void;
}

/** Asks the route's variant to classify `sentence` (valid, trimmed). */
export async function callVariant(
  c: AppContext,
  { variant, name }: Route,
  sentence: string,
  { timeoutMs, attempts = MAX_ATTEMPTS, onResend }: UpstreamOptions,
): Promise<Response> {
  const upstream = c.env[bindingOf(variant)];
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    [REQUEST_ID_HEADER]: c.get("requestId"),
    [ROUTE_HEADER]: name,
  };
  const send = (signal: AbortSignal) =>
    upstream.fetch("http://upstream/predict", {
      method: "POST",
      headers,
      body: JSON.stringify({ sentence }),
      signal,
    });
  const logFailure = (fields: Record<string, string | number>) =>
    console.error(
      JSON.stringify({
        event: "upstream_error",
        variant,
        request_id: c.get("requestId"),
        ...fields,
      }),
    );
  try {
    return await withTimeout(timeoutMs, async (signal) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await send(signal);
          if (answer.ok) return answer;
          logFailure({ status: answer.status });
          return failureOf(variant, answer);
        } catch (error) {
          // Kept-alive connections that the other side closed at that moment (nginx reloading, a
          // replica restarting) fail at once, and the pool may hold several: send again, up to
          // MAX_ATTEMPTS in all. Safe, as a prediction has no side effects; never after a timeout.
          if ((error as Error)?.name === "TimeoutError" || attempt >= attempts) throw error;
          onResend?.(variant);
          // The pause lets the runtime notice the other closed connections of its pool and drop
          // them: sent again at once, all three attempts met closed connections (measured).
          await new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS));
        }
      }
    });
  } catch (error) {
    logFailure({ error: String(error) });
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

/**
 * A variant's error answer in the gateway's words. Its body (a worker's problem, nginx's error page)
 * may carry internal text: that is for the variant's own log, under the same request id, never
 * for the client.
 */
async function failureOf(variant: Variant, answer: Response): Promise<Response> {
  await answer.body?.cancel();
  if (answer.status === 503) {
    return problemResponse(
      { status: 503, detail: `the ${variant} model is not available yet; retry shortly` },
      { "Retry-After": answer.headers.get("Retry-After") ?? "5" },
    );
  }
  return problemResponse({
    status: 502,
    detail: `the ${variant} model failed (status ${answer.status}); the request id is in its log`,
  });
}
