/**
 * When v2's model is better, as good, or worse than v1's: one set of thresholds for
 * `make experiment-report`'s verdict and for the Prometheus alerts (deployments/prometheus/
 * rollout-rules.yml is generated from these by `make rollout-rules`; a test checks it is).
 */
export const THRESHOLDS = {
  /** v2's share of 5xx may exceed v1's by at most this (absolute, 0.01 = one point). */
  errorRateIncrease: 0.01,
  /** v2's p99 latency may be at most this multiple of v1's. */
  p99Ratio: 1.5,
  /**
   * Requests an arm needs in the window before its p99 is weighed: of fewer, the p99 is the slowest
   * one or two (measured: 24 canary requests' "p99" of 8.7 ms against v1's 5.3 ms, the same model).
   */
  p99MinRequests: 100,
  /** At most this share of shadowed requests may get a different label from v2. */
  disagreement: 0.35,
  /** Disagreement is weighed from this many comparisons in the window: of fewer it is a coin or two. */
  minShadowComparisons: 50,
  /** v2's live accuracy (from feedback) may be at most this far below v1's. */
  accuracyDrop: 0.02,
  /** Below this many requests or feedbacks for a variant, the verdict is "hold": too little to tell. */
  minRequests: 200,
  minFeedback: 50,
  /** Live accuracy counts only when its feedback comes from at least this many consumers on each side. */
  minFeedbackConsumers: 3,
} as const;

/** How long a breach must last before an alert fires. */
export const ALERT_FOR = "5m";
/** The window the alerts and the report's rates are computed over. */
export const ALERT_WINDOW = "10m";
