/**
 * `make models`: every model version in model/versions, with its figures on the fixed test split
 * and which variant serves it (<NAME>_MODEL: deployments/settings.env or the environment).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { VARIANTS } from "../workers/manifest.ts";
import { loadSettings, MODEL_VERSIONS } from "./stack/settings.ts";

interface Metrics {
  version: string;
  config_name: string;
  accuracy: number;
  macro_f1: number;
  model_bytes: number;
  featurizer_bytes: number;
}

const settings = loadSettings();
const rows = readdirSync(MODEL_VERSIONS)
  .map(
    (version) =>
      JSON.parse(readFileSync(join(MODEL_VERSIONS, version, "metrics.json"), "utf8")) as Metrics,
  )
  .sort((a, b) => b.accuracy - a.accuracy);
const servedBy = (version: string) =>
  VARIANTS.filter((variant) => settings.variants[variant].model === version).join(", ") || "-";
console.log(
  `${"version".padEnd(14)}${"config".padEnd(16)}${"accuracy".padStart(9)}${"macro-F1".padStart(10)}${"size".padStart(9)}  served by`,
);
for (const m of rows) {
  const size = `${((m.model_bytes + m.featurizer_bytes) / 1e6).toFixed(2)} MB`;
  console.log(
    `${m.version.padEnd(14)}${m.config_name.padEnd(16)}${m.accuracy.toFixed(4).padStart(9)}${m.macro_f1.toFixed(4).padStart(10)}${size.padStart(9)}  ${servedBy(m.version)}`,
  );
}
