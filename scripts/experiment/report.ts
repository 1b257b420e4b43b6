/**
 * `make experiment-report`: how the candidate's model (v2's) does against the stable variant's
 * (v1's; workers/manifest.ts), read from Prometheus over the last REPORT_WINDOW (default 1h): per
 * variant and model version, requests, error rate, p50/p99 latency, label distribution and its
 * divergence from the stable variant's, shadow agreement, and live accuracy
 * from feedback with a 95% interval. It ends with a verdict (promote / hold / roll back) by
 * THRESHOLDS, the alerts' own, and writes a PNG chart of the label distributions.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { vegaLitePng } from "../chart-png.ts";
import { LABELS } from "../../model/serving/labels.ts";
import { CANDIDATE, STABLE, VARIANTS } from "../../workers/manifest.ts";
import { loadSettings, paths } from "../stack/settings.ts";
import { THRESHOLDS } from "./thresholds.ts";

const settings = loadSettings();
const WINDOW = process.env.REPORT_WINDOW ?? "1h";

type Sample = { metric: Record<string, string>; value: [number, string] };

async function query(promql: string): Promise<Sample[]> {
  const url = `http://127.0.0.1:${settings.prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data: { result: Sample[] };
  };
  if (body.status !== "success") throw new Error(`Prometheus refused ${promql}: ${body.error}`);
  return body.data.result;
}

export interface Arm {
  variant: string;
  model: string;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  labels: Record<string, number>;
  feedback: number;
  correct: number;
}

const key = (m: Record<string, string>) => `${m.variant} ${m.model}`;

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

async function arms(): Promise<Arm[]> {
  const byArm = new Map<string, Arm>();
  const arm = (m: Record<string, string>) => {
    const k = key(m);
    if (!byArm.has(k))
      byArm.set(k, {
        variant: m.variant!,
        model: m.model!,
        requests: 0,
        errors: 0,
        p50Ms: NaN,
        p99Ms: NaN,
        labels: {},
        feedback: 0,
        correct: 0,
      });
    return byArm.get(k)!;
  };
  // Answers a model made (series of before the model label existed, and refusals, have none).
  const answered = `variant=~"${VARIANTS.join("|")}",model=~"[0-9a-f]{12}"`;
  for (const s of await query(
    `sum by (variant, model) (increase(fortress_requests_total{${answered}}[${WINDOW}]))`,
  ))
    arm(s.metric).requests = Number(s.value[1]);
  for (const s of await query(
    `sum by (variant, model) (increase(fortress_requests_total{${answered},status=~"5.."}[${WINDOW}]))`,
  ))
    arm(s.metric).errors = Number(s.value[1]);
  for (const [q, field] of [
    [0.5, "p50Ms"],
    [0.99, "p99Ms"],
  ] as const) {
    for (const s of await query(
      `histogram_quantile(${q}, sum by (variant, model, le) (increase(fortress_request_duration_seconds_bucket{${answered}}[${WINDOW}])))`,
    )) {
      arm(s.metric)[field] = Number(s.value[1]) * 1000;
    }
  }
  for (const s of await query(
    `sum by (variant, model, label) (increase(fortress_predictions_total{${answered}}[${WINDOW}]))`,
  ))
    arm(s.metric).labels[s.metric.label!] = Number(s.value[1]);
  for (const s of await query(
    `sum by (variant, model, correct) (increase(fortress_feedback_total[${WINDOW}]))`,
  )) {
    const a = arm(s.metric);
    a.feedback += Number(s.value[1]);
    if (s.metric.correct === "true") a.correct += Number(s.value[1]);
  }
  return [...byArm.values()]
    .filter((a) => a.requests > 0 || a.feedback > 0)
    .sort((a, b) => `${a.variant} ${a.model}`.localeCompare(`${b.variant} ${b.model}`));
}

export type Verdict = { verdict: "promote" | "hold" | "roll back"; reasons: string[] };

/** The verdict on the candidate (its busiest model) against the stable variant, by THRESHOLDS. */
export function verdictOf(
  stable: Arm | undefined,
  candidate: Arm | undefined,
  shadow: { agree: number; disagree: number },
): Verdict {
  if (!stable || !candidate)
    return {
      verdict: "hold",
      reasons: [`${STABLE} or ${CANDIDATE} answered nothing in the window`],
    };
  const rate = (a: Arm) => (a.requests > 0 ? a.errors / a.requests : 0);
  const worse: string[] = [];
  if (rate(candidate) - rate(stable) > THRESHOLDS.errorRateIncrease)
    worse.push(`error rate ${pct(rate(candidate))} against ${STABLE}'s ${pct(rate(stable))}`);
  if (candidate.p99Ms > THRESHOLDS.p99Ratio * stable.p99Ms)
    worse.push(
      `p99 ${candidate.p99Ms.toFixed(1)} ms against ${STABLE}'s ${stable.p99Ms.toFixed(1)} ms`,
    );
  const compared = shadow.agree + shadow.disagree;
  if (compared > 0 && shadow.disagree / compared > THRESHOLDS.disagreement)
    worse.push(
      `disagrees with ${STABLE} on ${pct(shadow.disagree / compared)} of shadowed requests`,
    );
  const enoughFeedback =
    stable.feedback >= THRESHOLDS.minFeedback && candidate.feedback >= THRESHOLDS.minFeedback;
  if (
    enoughFeedback &&
    candidate.correct / candidate.feedback <
      stable.correct / stable.feedback - THRESHOLDS.accuracyDrop
  ) {
    worse.push(
      `live accuracy ${pct(candidate.correct / candidate.feedback)} against ${STABLE}'s ${pct(stable.correct / stable.feedback)}`,
    );
  }
  if (worse.length > 0) return { verdict: "roll back", reasons: worse };
  const missing: string[] = [];
  if (candidate.requests < THRESHOLDS.minRequests)
    missing.push(
      `${CANDIDATE} answered ${candidate.requests.toFixed(0)} requests (${THRESHOLDS.minRequests} needed)`,
    );
  if (!enoughFeedback)
    missing.push(
      `feedback: ${STABLE} ${stable.feedback.toFixed(0)}, ${CANDIDATE} ${candidate.feedback.toFixed(0)} (${THRESHOLDS.minFeedback} each needed)`,
    );
  if (missing.length > 0) return { verdict: "hold", reasons: missing };
  return {
    verdict: "promote",
    reasons: [
      `${CANDIDATE} is within every threshold of ${STABLE} (scripts/experiment/thresholds.ts)`,
    ],
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

async function main(): Promise<void> {
  const all = await arms();
  const shadowed = Object.fromEntries(
    (await query(`sum by (outcome) (increase(fortress_shadow_predictions_total[${WINDOW}]))`)).map(
      (s) => [s.metric.outcome, Number(s.value[1])],
    ),
  );
  const shadow = {
    agree: shadowed.agree ?? 0,
    disagree: shadowed.disagree ?? 0,
    error: shadowed.error ?? 0,
  };
  const busiest = (variant: string) =>
    all.filter((a) => a.variant === variant).sort((a, b) => b.requests - a.requests)[0];
  const stable = busiest(STABLE);
  const serving = VARIANTS.map(
    (variant) => `${variant} serves ${settings.variants[variant].model}`,
  ).join(", ");
  console.log(
    `Experiment report, the last ${WINDOW} (Prometheus on 127.0.0.1:${settings.prometheusPort}); ${serving}.\n`,
  );
  console.log(
    `${"variant model".padEnd(18)}${"requests".padStart(9)}${"errors".padStart(8)}${"p50 ms".padStart(8)}${"p99 ms".padStart(8)}${"JS div.".padStart(9)}  live accuracy (95% interval)`,
  );
  for (const a of all) {
    const [low, high] = wilson(a.correct, a.feedback);
    const accuracy =
      a.feedback > 0
        ? `${pct(a.correct / a.feedback)} (${pct(low)}-${pct(high)}) of ${a.feedback.toFixed(0)}`
        : "no feedback";
    const divergence =
      stable && Object.keys(a.labels).length > 0
        ? jsDivergence(a.labels, stable.labels).toFixed(3)
        : "-";
    const errors = a.requests > 0 ? pct(a.errors / a.requests) : "-";
    console.log(
      `${`${a.variant} ${a.model}`.padEnd(18)}${a.requests.toFixed(0).padStart(9)}${errors.padStart(8)}${a.p50Ms.toFixed(1).padStart(8)}${a.p99Ms.toFixed(1).padStart(8)}${divergence.padStart(9)}  ${accuracy}`,
    );
  }
  const compared = shadow.agree + shadow.disagree;
  console.log(
    `\nShadow: ${compared > 0 ? `${pct(shadow.agree / compared)} agreement over ${compared.toFixed(0)} comparisons` : "no comparisons"}${shadow.error > 0 ? `, ${shadow.error.toFixed(0)} errors` : ""}.`,
  );
  console.log("Label distribution (share of each variant's predictions):");
  for (const a of all) {
    const total = Object.values(a.labels).reduce((s, n) => s + n, 0) || 1;
    console.log(
      `  ${`${a.variant} ${a.model}`.padEnd(18)}${
        LABELS.filter((l) => (a.labels[l] ?? 0) > 0)
          .map((l) => `${l} ${pct((a.labels[l] ?? 0) / total)}`)
          .join(", ") || "none"
      }`,
    );
  }
  const { verdict, reasons } = verdictOf(stable, busiest(CANDIDATE), shadow);
  const chart = join(paths.state, "experiment-report.png");
  writeFileSync(
    chart,
    await vegaLitePng({
      title: `Label distribution by variant and model, last ${WINDOW} (verdict: ${verdict})`,
      width: 560,
      background: "white",
      config: { font: "DejaVu Sans" },
      data: {
        values: all.flatMap((a) => {
          const total = Object.values(a.labels).reduce((s, n) => s + n, 0) || 1;
          return LABELS.map((l) => ({
            arm: `${a.variant} ${a.model}`,
            label: l,
            share: (a.labels[l] ?? 0) / total,
          }));
        }),
      },
      mark: "bar",
      encoding: {
        y: { field: "label", type: "nominal", title: null },
        yOffset: { field: "arm" },
        x: {
          field: "share",
          type: "quantitative",
          axis: { format: "%" },
          title: "share of predictions",
        },
        color: { field: "arm", type: "nominal", title: "variant, model" },
      },
    }),
  );
  console.log(`\nVerdict: ${verdict.toUpperCase()}. ${reasons.join("; ")}.\nChart: ${chart}`);
}

if (process.argv[1]?.endsWith("report.ts")) {
  main().catch((error: Error) => {
    console.error(`experiment-report: ${error.message} (is the stack running? make start-project)`);
    process.exit(1);
  });
}
