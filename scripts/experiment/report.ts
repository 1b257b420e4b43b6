/**
 * `make experiment-report`: how the candidate's model (v2's) does against the stable variant's
 * (v1's; workers/manifest.ts), read from Prometheus over the last REPORT_WINDOW (default 1h)
 * (evidence.ts): per variant, route and model version, requests, error rate, p50/p99 latency,
 * label distribution and its divergence from v1's stable traffic, live accuracy from feedback with
 * a 95% interval and how many consumers gave it; shadow agreement. It ends with the verdict on
 * v2's canary against v1's stable traffic (debug and shadow rows are shown, never weighed) and
 * writes a PNG chart of the label distributions.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { vegaLitePng } from "../chart-png.ts";
import { LABELS } from "../../model/serving/labels.ts";
import { VARIANTS } from "../../workers/manifest.ts";
import { loadSettings, paths } from "../stack/settings.ts";
import {
  armName,
  gatherEvidence,
  jsDivergence,
  pct,
  prometheusAt,
  verdictOf,
  wilson,
} from "./evidence.ts";

const settings = loadSettings();
const WINDOW = process.env.REPORT_WINDOW ?? "1h";

async function main(): Promise<void> {
  const evidence = await gatherEvidence(prometheusAt(settings.prometheusPort), WINDOW);
  const { arms: all, shadow, stable } = evidence;
  const serving = VARIANTS.map(
    (variant) => `${variant} serves ${settings.variants[variant].model}`,
  ).join(", ");
  console.log(
    `Experiment report, the last ${WINDOW} (Prometheus on 127.0.0.1:${settings.prometheusPort}); ${serving}.\n`,
  );
  console.log(
    `${"variant route model".padEnd(25)}${"requests".padStart(9)}${"errors".padStart(8)}${"p50 ms".padStart(8)}${"p99 ms".padStart(8)}${"JS div.".padStart(9)}  live accuracy (95% interval)`,
  );
  for (const a of all) {
    const [low, high] = wilson(a.correct, a.feedback);
    const accuracy =
      a.feedback > 0
        ? `${pct(a.correct / a.feedback)} (${pct(low)}-${pct(high)}) of ${a.feedback.toFixed(0)} from ${a.feedbackConsumers} consumer${a.feedbackConsumers === 1 ? "" : "s"}`
        : "no feedback";
    const divergence =
      stable && Object.keys(a.labels).length > 0
        ? jsDivergence(a.labels, stable.labels).toFixed(3)
        : "-";
    const errors = a.requests > 0 ? pct(a.errors / a.requests) : "-";
    console.log(
      `${armName(a).padEnd(25)}${a.requests.toFixed(0).padStart(9)}${errors.padStart(8)}${a.p50Ms.toFixed(1).padStart(8)}${a.p99Ms.toFixed(1).padStart(8)}${divergence.padStart(9)}  ${accuracy}`,
    );
  }
  const compared = shadow.agree + shadow.disagree;
  console.log(
    `\nShadow: ${compared > 0 ? `${pct(shadow.agree / compared)} agreement over ${compared.toFixed(0)} comparisons` : "no comparisons"}${shadow.error > 0 ? `, ${shadow.error.toFixed(0)} errors` : ""}${shadow.skipped > 0 ? `, ${shadow.skipped.toFixed(0)} skipped (SHADOW_MAX_IN_FLIGHT)` : ""}.`,
  );
  console.log(
    "The verdict weighs v1 stable against v2 canary; debug and shadow rows are shown apart, never weighed.",
  );
  console.log("Label distribution (share of each arm's predictions):");
  for (const a of all) {
    const total = Object.values(a.labels).reduce((s, n) => s + n, 0) || 1;
    console.log(
      `  ${armName(a).padEnd(25)}${
        LABELS.filter((l) => (a.labels[l] ?? 0) > 0)
          .map((l) => `${l} ${pct((a.labels[l] ?? 0) / total)}`)
          .join(", ") || "none"
      }`,
    );
  }
  const { verdict, reasons } = verdictOf(stable, evidence.canary, shadow);
  const chart = join(paths.state, "experiment-report.png");
  writeFileSync(
    chart,
    await vegaLitePng({
      title: `Label distribution by variant, route and model, last ${WINDOW} (verdict: ${verdict})`,
      width: 560,
      background: "white",
      config: { font: "DejaVu Sans" },
      data: {
        values: all.flatMap((a) => {
          const total = Object.values(a.labels).reduce((s, n) => s + n, 0) || 1;
          return LABELS.map((l) => ({
            arm: armName(a),
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
        color: { field: "arm", type: "nominal", title: "variant, route, model" },
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
