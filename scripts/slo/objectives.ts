/**
 * The SLOs of POST /predict, measured at the front (nginx, as the client saw it, nginx's own 503s
 * included) by mtail: the objectives' one home, their validation, and the one list of latency
 * buckets that both the mtail program (deployments/mtail/predict.mtail) and the alerts' threshold
 * come from. The objectives themselves are settings (SLO_* in deployments/settings.env).
 */

/** The metrics deployments/mtail/predict.mtail exports (mtail adds a `prog` label to each). */
export const METRICS = {
  /** A counter by `status` (nginx's $status, e.g. "503"), one a non-debug /predict. */
  requests: "fortress_front_predict_requests_total",
  /** A histogram of nginx's $request_time, in seconds, over the same requests. */
  seconds: "fortress_front_predict_request_seconds",
} as const;

/**
 * The histogram's upper bounds, in seconds. SLO_LATENCY_SECONDS must be one of them: the share
 * of requests within the threshold is then read exactly from a bucket, never interpolated.
 */
export const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/** settings.slo: every objective as a fraction of requests (0.999), never a percent. */
export interface SloObjectives {
  /** SLO_WINDOW_DAYS: the window the error budget is counted over, in days. */
  windowDays: number;
  /** SLO_AVAILABILITY / 100: the fraction of requests to be answered without a 5xx. */
  availability: number;
  /** SLO_LATENCY / 100: the fraction of requests to be answered within latencySeconds. */
  latency: number;
  /** SLO_LATENCY_SECONDS: the latency threshold, one of LATENCY_BUCKETS. */
  latencySeconds: number;
}

/** Twelve significant digits: 1 - 0.999 is 0.001, not 0.0010000000000000009. */
export const tidy = (n: number) => Number(n.toPrecision(12));

/** The error budget of an objective: the fraction of requests allowed to fail it. */
export const errorBudget = (objective: number) => tidy(1 - objective);

/**
 * The multi-window, multi-burn-rate alerts (the SRE workbook's "Alerting on SLOs", approach 6),
 * as the share of the window's budget each one spends within its long window: for 30 days these
 * are the workbook's burn rates 14.4, 6, 3 and 1, and another window keeps their meaning.
 * The short window (1/12 of the long) makes an alert stop soon after the burn does.
 * `for`: the workbook's; for the 3-day ticket, 3h rather than 1h: at a burn rate of 1 a 3-hour
 * wait spends 0.4% of the budget, and it keeps a 6h window hovering at 1x from opening and
 * closing a ticket every hour.
 */
export const BURN_ALERTS = [
  { severity: "page", longWindow: "1h", shortWindow: "5m", budgetSpent: 0.02, for: "2m" },
  { severity: "page", longWindow: "6h", shortWindow: "30m", budgetSpent: 0.05, for: "15m" },
  { severity: "ticket", longWindow: "1d", shortWindow: "2h", budgetSpent: 0.1, for: "1h" },
  { severity: "ticket", longWindow: "3d", shortWindow: "6h", budgetSpent: 0.1, for: "3h" },
] as const;
export type BurnAlert = (typeof BURN_ALERTS)[number];

const HOURS = { "1h": 1, "6h": 6, "1d": 24, "3d": 72 } as const;
/** The longest alert window, in days: the SLO window cannot be shorter. */
const LONGEST_ALERT_DAYS = 3;

/** How many times the budget's even pace an alert's long window must burn at. */
export const burnRate = (windowDays: number, alert: BurnAlert) =>
  tidy((alert.budgetSpent * windowDays * 24) / HOURS[alert.longWindow]);

/** SLO_* settings, by their names, into settings.slo; nonsense refused with the variable's name. */
export function parseSlo(value: (key: string) => string): SloObjectives {
  const windowDays = Number(value("SLO_WINDOW_DAYS"));
  if (!Number.isInteger(windowDays) || windowDays < LONGEST_ALERT_DAYS)
    throw new Error(
      `SLO_WINDOW_DAYS=${value("SLO_WINDOW_DAYS")} must be a whole number of days, ${LONGEST_ALERT_DAYS} (the longest alert window) or more`,
    );
  // The page's burn rate over the budget's even pace: an objective whose budget is so large that
  // 14.4x of it is more than every request (below 93.06% for 30 days) could never page.
  const maxBurn = Math.max(...BURN_ALERTS.map((alert) => burnRate(windowDays, alert)));
  const objective = (key: string) => {
    const percent = Number(value(key));
    const lowest = tidy(100 - 100 / maxBurn);
    if (value(key) === "" || !Number.isFinite(percent) || percent <= lowest || percent >= 100)
      throw new Error(
        `${key}=${value(key)} must be a percent of requests above ${lowest} (the fastest burn must be possible) and below 100 (no budget at all)`,
      );
    return tidy(percent / 100);
  };
  const latencySeconds = Number(value("SLO_LATENCY_SECONDS"));
  if (!(LATENCY_BUCKETS as readonly number[]).includes(latencySeconds))
    throw new Error(
      `SLO_LATENCY_SECONDS=${value("SLO_LATENCY_SECONDS")} must be one of the latency histogram's bounds: ${LATENCY_BUCKETS.join(", ")} (scripts/slo/objectives.ts)`,
    );
  return {
    windowDays,
    availability: objective("SLO_AVAILABILITY"),
    latency: objective("SLO_LATENCY"),
    latencySeconds,
  };
}

/**
 * Prometheus's --storage.tsdb.retention.time: the SLO window and two days more, so that the
 * budget's rate over the whole window always has the window's samples (and a restart's gap).
 */
export const retentionFor = (slo: SloObjectives) => `${slo.windowDays + 2}d`;
