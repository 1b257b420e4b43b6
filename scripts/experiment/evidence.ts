/**
 * The evidence on the candidate (v2's model) against the stable variant (v1's; workers/manifest.ts),
 * read from Prometheus over a window, and the verdict on it by THRESHOLDS, the alerts' own. Read by
 * `make experiment-report` (report.ts) and by the rollout controller (rollout/), which asks it
 * before every step with a window that follows the step's length.
 *
 * An arm is a variant, a model version and a route: the verdict weighs v1's ordinary traffic
 * (route="stable") against v2's canary traffic (route="canary"), plus the shadow copies' agreement;
 * debug requests (X-Experiment-Group) and the shadow copies' own answers are shown apart, never
 * weighed, so that no one poking v2 moves the verdict.
 */
import { LABELS } from "../../model/serving/labels.ts";
import { CANDIDATE, STABLE, VARIANTS } from "../../workers/manifest.ts";
import { THRESHOLDS } from "./thresholds.ts";

type Series = { metric: Record<string, string>; value: [number, string] };

export type Query = (promql: string) => Promise<Series[]>;

/** A PromQL query against the Prometheus at `port` on loopback. */
export const prometheusAt =
  (port: number): Query =>
  async (promql) => {
    const url = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data: { result: Series[] };
    };
    if (body.status !== "success") throw new Error(`Prometheus refused ${promql}: ${body.error}`);
    return body.data.result;
  };

export interface Arm {
  variant: string;
  route: string;
  model: string;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  labels: Record<string, number>;
  feedback: number;
  correct: number;
  /** The consumers who gave that feedback: how many voices the live accuracy is. */
  feedbackConsumers: number;
}

export interface Shadowed {
  agree: number;
  disagree: number;
  error: number;
  skipped: number;
}

export interface Evidence {
  window: string;
  arms: Arm[];
  shadow: Shadowed;
  /** The arms the verdict weighs: v1's stable traffic and v2's canary traffic (each its busiest model). */
  stable?: Arm;
  canary?: Arm;
}

const armKey = (m: Record<string, string>) => `${m.variant} ${m.route} ${m.model}`;
export const armName = (a: Arm) => `${a.variant} ${a.route} ${a.model}`;

/** Everything the report and the verdict read, over the last `window` (a PromQL duration). */
export async function gatherEvidence(query: Query, window: string): Promise<Evidence> {
  const byArm = new Map<string, Arm>();
  const arm = (m: Record<string, string>) => {
    const k = armKey(m);
    if (!byArm.has(k))
      byArm.set(k, {
        variant: m.variant!,
        route: m.route!,
        model: m.model!,
        requests: 0,
        errors: 0,
        p50Ms: NaN,
        p99Ms: NaN,
        labels: {},
        feedback: 0,
        correct: 0,
        feedbackConsumers: 0,
      });
    return byArm.get(k)!;
  };
  // Answers a model made (series from before the route label have none).
  const answered = `variant=~"${VARIANTS.join("|")}",model=~"[0-9a-f]{12}",route!=""`;
  // Requests routed to a variant: those it answered, and its failures (a timeout, an unreachable
  // or failing variant: model="none", as no model said which it was).
  const routed = `variant=~"${VARIANTS.join("|")}",model=~"[0-9a-f]{12}|none",route!=""`;
  const by = "variant, route, model";
  for (const s of await query(
    `sum by (${by}) (increase(fortress_requests_total{${routed}}[${window}]))`,
  ))
    arm(s.metric).requests = Number(s.value[1]);
  for (const s of await query(
    `sum by (${by}) (increase(fortress_requests_total{${routed},status=~"5.."}[${window}]))`,
  ))
    arm(s.metric).errors = Number(s.value[1]);
  for (const [q, field] of [
    [0.5, "p50Ms"],
    [0.99, "p99Ms"],
  ] as const) {
    for (const s of await query(
      `histogram_quantile(${q}, sum by (${by}, le) (increase(fortress_request_duration_seconds_bucket{${answered}}[${window}])))`,
    ))
      arm(s.metric)[field] = Number(s.value[1]) * 1000;
  }
  for (const s of await query(
    `sum by (${by}, label) (increase(fortress_predictions_total{${answered}}[${window}]))`,
  ))
    arm(s.metric).labels[s.metric.label!] = Number(s.value[1]);
  for (const s of await query(
    `sum by (${by}, correct) (increase(fortress_feedback_total{${answered}}[${window}]))`,
  )) {
    const a = arm(s.metric);
    a.feedback += Number(s.value[1]);
    if (s.metric.correct === "true") a.correct += Number(s.value[1]);
  }
  for (const s of await query(
    `count by (${by}) (sum by (${by}, consumer) (increase(fortress_feedback_total{${answered}}[${window}])) > 0)`,
  ))
    arm(s.metric).feedbackConsumers = Number(s.value[1]);
  // A variant's failures count against the model it serves on that route (its busiest there).
  for (const failed of [...byArm.values()].filter((a) => a.model === "none")) {
    const served = [...byArm.values()]
      .filter((a) => a.variant === failed.variant && a.route === failed.route && a.model !== "none")
      .sort((a, b) => b.requests - a.requests)[0];
    if (!served) continue;
    served.requests += failed.requests;
    served.errors += failed.errors;
    byArm.delete(armName(failed));
  }
  const arms = [...byArm.values()]
    .filter((a) => a.requests > 0 || a.feedback > 0)
    .sort((a, b) => armName(a).localeCompare(armName(b)));

  const outcomes = Object.fromEntries(
    (await query(`sum by (outcome) (increase(fortress_shadow_predictions_total[${window}]))`)).map(
      (s) => [s.metric.outcome, Number(s.value[1])],
    ),
  );
  const shadow = {
    agree: outcomes.agree ?? 0,
    disagree: outcomes.disagree ?? 0,
    error: outcomes.error ?? 0,
    skipped: outcomes.skipped ?? 0,
  };
  const busiest = (variant: string, route: string) =>
    arms
      .filter((a) => a.variant === variant && a.route === route)
      .sort((a, b) => b.requests - a.requests)[0];
  return {
    window,
    arms,
    shadow,
    stable: busiest(STABLE, "stable"),
    canary: busiest(CANDIDATE, "canary"),
  };
}

/** The Wilson score interval of a proportion, 95%. */
export function wilson(successes: number, trials: number): [number, number] {
  if (trials === 0) return [0, 1];
  const z = 1.96;
  const p = successes / trials;
  const centre = (p + (z * z) / (2 * trials)) / (1 + (z * z) / trials);
  const half =
    (z * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials))) /
    (1 + (z * z) / trials);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Jensen-Shannon divergence (base 2, 0 to 1) between two count distributions over the labels. */
export function jsDivergence(a: Record<string, number>, b: Record<string, number>): number {
  const total = (d: Record<string, number>) => LABELS.reduce((s, l) => s + (d[l] ?? 0), 0) || 1;
  const [ta, tb] = [total(a), total(b)];
  const kl = (p: number[], q: number[]) =>
    p.reduce((s, pi, i) => (pi > 0 ? s + pi * Math.log2(pi / q[i]!) : s), 0);
  const p = LABELS.map((l) => (a[l] ?? 0) / ta);
  const q = LABELS.map((l) => (b[l] ?? 0) / tb);
  const m = p.map((pi, i) => (pi + q[i]!) / 2);
  return (kl(p, m) + kl(q, m)) / 2;
}

export type Verdict = { verdict: "promote" | "hold" | "roll back"; reasons: string[] };

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** What a verdict other than "hold" needs: the report's by default. */
export interface Sample {
  /** Requests the canary answered in the window. */
  requests: number;
  /** Whether live accuracy must be known (else it weighs only when there is enough of it). */
  feedback: boolean;
}

export const REPORT_SAMPLE: Sample = { requests: THRESHOLDS.minRequests, feedback: true };

/**
 * The verdict on the candidate's canary against the stable variant's ordinary traffic, by
 * THRESHOLDS. Live accuracy counts only with enough feedback from enough consumers on each side:
 * below that it neither condemns nor clears the candidate.
 */
export function verdictOf(
  stable: Arm | undefined,
  canary: Arm | undefined,
  shadow: Pick<Shadowed, "agree" | "disagree">,
  needs: Sample = REPORT_SAMPLE,
): Verdict {
  if (!stable || !canary)
    return {
      verdict: "hold",
      reasons: [
        `${!stable ? `${STABLE} (stable)` : `${CANDIDATE} (canary)`} answered nothing in the window`,
      ],
    };
  // At most 1: Prometheus extrapolates errors and requests each on its own.
  const rate = (a: Arm) => (a.requests > 0 ? Math.min(1, a.errors / a.requests) : 0);
  const worse: string[] = [];
  if (rate(canary) - rate(stable) > THRESHOLDS.errorRateIncrease)
    worse.push(`error rate ${pct(rate(canary))} against ${STABLE}'s ${pct(rate(stable))}`);
  const p99Weighed = [canary, stable].every((a) => a.requests >= THRESHOLDS.p99MinRequests);
  if (p99Weighed && canary.p99Ms > THRESHOLDS.p99Ratio * stable.p99Ms)
    worse.push(
      `p99 ${canary.p99Ms.toFixed(1)} ms against ${STABLE}'s ${stable.p99Ms.toFixed(1)} ms`,
    );
  const compared = shadow.agree + shadow.disagree;
  if (
    compared >= THRESHOLDS.minShadowComparisons &&
    shadow.disagree / compared > THRESHOLDS.disagreement
  )
    worse.push(
      `disagrees with ${STABLE} on ${pct(shadow.disagree / compared)} of shadowed requests`,
    );
  const enough = (a: Arm) =>
    a.feedback >= THRESHOLDS.minFeedback && a.feedbackConsumers >= THRESHOLDS.minFeedbackConsumers;
  const enoughFeedback = enough(stable) && enough(canary);
  if (
    enoughFeedback &&
    canary.correct / canary.feedback < stable.correct / stable.feedback - THRESHOLDS.accuracyDrop
  ) {
    worse.push(
      `live accuracy ${pct(canary.correct / canary.feedback)} against ${STABLE}'s ${pct(stable.correct / stable.feedback)}`,
    );
  }
  if (worse.length > 0) return { verdict: "roll back", reasons: worse };
  const missing: string[] = [];
  if (canary.requests < needs.requests)
    missing.push(
      `${CANDIDATE}'s canary answered ${canary.requests.toFixed(0)} requests (${needs.requests} needed)`,
    );
  if (needs.feedback && !enoughFeedback)
    missing.push(
      `feedback: ${STABLE} ${stable.feedback.toFixed(0)} from ${stable.feedbackConsumers} consumers, ${CANDIDATE} ${canary.feedback.toFixed(0)} from ${canary.feedbackConsumers} (${THRESHOLDS.minFeedback} from ${THRESHOLDS.minFeedbackConsumers} consumers each needed)`,
    );
  if (missing.length > 0) return { verdict: "hold", reasons: missing };
  return {
    verdict: "promote",
    reasons: [
      `${CANDIDATE} is within every threshold of ${STABLE} (scripts/experiment/thresholds.ts)`,
    ],
  };
}
