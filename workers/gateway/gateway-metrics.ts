/** The gateway process's metrics (Prometheus text at GET /metrics, scraped internally only). */
import { createRegistry, LATENCY_BUCKETS } from "../shared/http/metrics.ts";
import { VARIANTS } from "../manifest.ts";
import { SHADOW_OUTCOMES } from "./routes/predict/shadow.ts";
import { NOT_COUNTED } from "./routes/feedback.ts";

export const registry = createRegistry();

export const metrics = {
  requests: registry.counter(
    "fortress_requests_total",
    'POST /predict requests answered, and shadow copies (route="shadow"), by variant, route (stable, canary, debug, shadow), model version and status',
  ),
  duration: registry.histogram(
    "fortress_request_duration_seconds",
    "Time to answer POST /predict, or a shadow copy, by variant, route and model version",
    LATENCY_BUCKETS,
  ),
  rateLimited: registry.counter("fortress_rate_limited_total", "Requests refused with 429"),
  authFailures: registry.counter("fortress_auth_failures_total", "Requests refused with 401"),
  upstreamErrors: registry.counter(
    "fortress_upstream_errors_total",
    "Upstream failures and timeouts, by variant",
  ),
  healthProbes: registry.counter(
    "fortress_health_probes_total",
    "Rounds of /health probes of the upstreams (at most one a second)",
  ),
  authThrottled: registry.counter(
    "fortress_auth_throttled_total",
    "Requests refused with 429 because the gateway's budget of password hashes was spent",
  ),
  upstreamResends: registry.counter(
    "fortress_upstream_resends_total",
    "Requests sent to an upstream again after its connection failed at once (e.g. nginx reloading), by variant",
  ),
  feedback: registry.counter(
    "fortress_feedback_total",
    "Feedback on predictions (POST /feedback), each token counted once, by the variant, route and model version that made them, whether they were right, and the consumer who gave it",
  ),
  feedbackNotCounted: registry.counter(
    "fortress_feedback_not_counted_total",
    "Feedback not counted, by reason: repeat (accepted, counted before), conflict (409), not-yours (403), ledger-full (503)",
  ),
  consumerRequests: registry.counter(
    "fortress_consumer_requests_total",
    "Requests of signed-in consumers, by consumer, path and status (consumers are configured: the labels are bounded)",
  ),
  consumerQuotaRefused: registry.counter(
    "fortress_consumer_quota_refused_total",
    "Requests refused with 429 because the consumer's daily quota was spent, by consumer",
  ),
  consumerDailyUsed: registry.gauge(
    "fortress_consumer_daily_used",
    "Requests of the consumer's daily quota used today (UTC), as this gateway last knew it",
  ),
  shadowPredictions: registry.counter(
    "fortress_shadow_predictions_total",
    "Stable requests also sent to the candidate after the answer (SHADOW_PERCENT), by whether the two labels agree (error: failed or past SHADOW_TIMEOUT_MS; skipped: yielded to v2's own clients, or SHADOW_MAX_IN_FLIGHT were in flight)",
  ),
};

// Present from the start, so rate() works before the first event.
metrics.rateLimited.add(0);
metrics.authFailures.add(0);
metrics.authThrottled.add(0);
metrics.healthProbes.add(0);
for (const reason of NOT_COUNTED) metrics.feedbackNotCounted.add(0, { reason });
for (const outcome of SHADOW_OUTCOMES) metrics.shadowPredictions.add(0, { outcome });
for (const variant of VARIANTS) {
  metrics.upstreamErrors.add(0, { variant });
  metrics.upstreamResends.add(0, { variant });
}
