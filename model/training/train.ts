/**
 * Trains the emotion classifier and writes a new version: model/versions/<version>/ with its
 * emotion.onnx, featurizer.json, metrics.json and model card (README.md). Run with `make model`
 * (MODEL_CONFIG=<name> picks one of TRAINING_CONFIGS; the default is "baseline").
 *
 * DATA_PATH overrides the data set (default model/data/tweet_emotions.csv, the repository's copy);
 * the split files are read from the `split/` folder next to it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { dataPaths, readDataset, selectSplit, type Example } from "./dataset.ts";
import { evaluate } from "./evaluation.ts";
import {
  FEATURIZER_FORMAT,
  Featurizer,
  forEachTerm,
  inverseDocumentFrequency,
  type FeaturizerData,
  type FeaturizerSettings,
} from "../serving/featurizer.ts";
import { LABELS } from "../serving/labels.ts";
import { modelVersion } from "../serving/model-version.ts";
import { decodeOnnx, encodeOnnx, forwardPass } from "./onnx-export.ts";
import { toSparseRows, trainSoftmaxRegression } from "./softmax-regression.ts";

/** model/: where the trained artifacts go, beside serving/ and training/. */
const MODEL_DIR = fileURLToPath(new URL("..", import.meta.url));

export interface TrainingConfig {
  featurizer: FeaturizerSettings;
  maxWordFeatures: number;
  maxCharFeatures: number;
  C: number;
  maxIterations: number;
  gradientTolerance: number;
}

/**
 * Every choice that shapes a model, by name; each version's metrics.json records its config with
 * the figures it gave. "baseline" is the first model (word 1-2-grams); "word1-char2-5" aims at the
 * best linear model known on this split (word 1-grams plus char_wb 2-5-grams, sublinear TF-IDF).
 */
export const TRAINING_CONFIGS: Record<string, TrainingConfig> = {
  baseline: {
    featurizer: { wordNgramRange: [1, 2], charNgramRange: [2, 5] },
    maxWordFeatures: 12_000,
    maxCharFeatures: 40_000,
    C: 0.5,
    maxIterations: 100,
    gradientTolerance: 1e-4,
  },
  "word1-char2-5": {
    featurizer: { wordNgramRange: [1, 1], charNgramRange: [2, 5] },
    maxWordFeatures: 15_000,
    maxCharFeatures: 50_000,
    C: 1,
    maxIterations: 200,
    gradientTolerance: 1e-4,
  },
};

interface TermStats {
  count: number;
  documents: number;
}

/**
 * Picks the `limit` most frequent terms of the training texts (ties by the term itself, so the
 * choice is deterministic), each with its smoothed idf. Ids follow frequency, most frequent first:
 * the weight rows touched most often then sit together in memory, which made training ~2x faster.
 */
function buildVocabulary(
  examples: Example[],
  settings: FeaturizerSettings,
  limits: { words: number; chars: number },
): FeaturizerData {
  const words = new Map<string, TermStats>();
  const chars = new Map<string, TermStats>();
  for (const { text } of examples) {
    const seen = new Set<string>();
    const tally =
      (stats: Map<string, TermStats>, prefix: string) =>
      (source: string, start: number, end: number) => {
        const term = source.slice(start, end);
        const entry = stats.get(term) ?? { count: 0, documents: 0 };
        entry.count++;
        if (!seen.has(prefix + term)) {
          seen.add(prefix + term);
          entry.documents++;
        }
        stats.set(term, entry);
      };
    forEachTerm(text, settings, tally(words, "w"), tally(chars, "c"));
  }
  const pick = (stats: Map<string, TermStats>, limit: number) => {
    const terms = [...stats.entries()]
      .sort(([a, x], [b, y]) => y.count - x.count || (a < b ? -1 : 1))
      .slice(0, limit);
    // idf rounded to 7 significant digits, so the file stays small; serving reads the same numbers.
    const idf = terms.map(([, s]) =>
      Number(inverseDocumentFrequency(examples.length, s.documents).toPrecision(7)),
    );
    return { terms: terms.map(([t]) => t), idf };
  };
  const w = pick(words, limits.words);
  const c = pick(chars, limits.chars);
  return {
    format: FEATURIZER_FORMAT,
    settings,
    words: w.terms,
    wordIdf: w.idf,
    chars: c.terms,
    charIdf: c.idf,
  };
}

function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface TrainedModel {
  featurizerData: FeaturizerData;
  featurizerJson: string;
  onnxBytes: Uint8Array;
  iterations: number;
  loss: number;
}

/** Trains on `examples`; the same examples and config give byte-identical files. */
export function trainEmotionModel(
  examples: Example[],
  config: TrainingConfig,
  dataSha256: string,
): TrainedModel {
  const featurizerData = buildVocabulary(examples, config.featurizer, {
    words: config.maxWordFeatures,
    chars: config.maxCharFeatures,
  });
  const featurizer = new Featurizer(featurizerData);
  const X = toSparseRows(
    examples.map((e) => featurizer.featurize(e.text)),
    featurizer.size,
  );
  const y = Int32Array.from(examples, (e) => LABELS.indexOf(e.label));
  const { model, iterations, loss } = trainSoftmaxRegression(X, y, {
    classCount: LABELS.length,
    C: config.C,
    maxIterations: config.maxIterations,
    gradientTolerance: config.gradientTolerance,
  });
  const featurizerJson = JSON.stringify(featurizerData);
  const onnxBytes = encodeOnnx(model, LABELS, {
    featurizer_format: FEATURIZER_FORMAT,
    featurizer_sha256: sha256(featurizerJson),
    data_sha256: dataSha256,
  });
  return { featurizerData, featurizerJson, onnxBytes, iterations, loss };
}

/** The folder of every version. */
export const VERSIONS_DIR = join(MODEL_DIR, "versions");

async function main(): Promise<void> {
  const configName = process.env.MODEL_CONFIG ?? "baseline";
  const config = TRAINING_CONFIGS[configName];
  if (!config)
    throw new Error(
      `MODEL_CONFIG=${configName} is not one of ${Object.keys(TRAINING_CONFIGS).join(", ")}`,
    );
  const { dataPath, trainIds, testIds } = dataPaths();
  const dataset = readDataset(dataPath);
  const train = selectSplit(dataset.examples, trainIds);
  const test = selectSplit(dataset.examples, testIds);
  console.log(
    `data: ${dataPath} (${dataset.examples.length} rows; train ${train.length}, test ${test.length})`,
  );

  const started = performance.now();
  const trained = trainEmotionModel(train, config, dataset.sha256);
  const trainingSeconds = (performance.now() - started) / 1000;
  const featurizer = new Featurizer(trained.featurizerData);
  console.log(
    `trained ${featurizer.size} features in ${trainingSeconds.toFixed(1)} s (${trained.iterations} L-BFGS iterations, loss ${trained.loss.toFixed(4)})`,
  );
  const featurizerBytes = new TextEncoder().encode(trained.featurizerJson);
  const version = await modelVersion(new Uint8Array(trained.onnxBytes), featurizerBytes);
  const dir = join(VERSIONS_DIR, version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "emotion.onnx"), trained.onnxBytes);
  writeFileSync(join(dir, "featurizer.json"), featurizerBytes);

  // Evaluate the weights as served (float32, read back from the file), not the float64 ones.
  const served = decodeOnnx(trained.onnxBytes);
  const predicted = test.map((e) => {
    const { ids, values } = featurizer.featurize(e.text);
    const p = forwardPass(served, ids, values);
    return p.indexOf(Math.max(...p));
  });
  const figures = evaluate(
    LABELS,
    test.map((e) => LABELS.indexOf(e.label)),
    predicted,
  );
  const metrics = {
    version,
    config_name: configName,
    accuracy: figures.accuracy,
    macro_f1: figures.macro_f1,
    weighted_f1: figures.weighted_f1,
    evaluated_on: `test split, ${test.length} rows`,
    labels: LABELS,
    per_class: figures.per_class,
    confusion_matrix: figures.confusion_matrix,
    feature_count: featurizer.size,
    model_bytes: trained.onnxBytes.byteLength,
    featurizer_bytes: Buffer.byteLength(trained.featurizerJson),
    training_seconds: Number(trainingSeconds.toFixed(2)),
    lbfgs_iterations: trained.iterations,
    training_loss: trained.loss,
    config,
    data_sha256: dataset.sha256,
    model_sha256: sha256(trained.onnxBytes),
  };
  writeFileSync(join(dir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  writeFileSync(join(dir, "README.md"), modelCard(metrics));
  console.log(`wrote ${dir}`);
  console.log(
    `test: accuracy ${figures.accuracy.toFixed(4)}, macro-F1 ${figures.macro_f1.toFixed(4)}, weighted-F1 ${figures.weighted_f1.toFixed(4)}`,
  );
}

/** The version's card: what it is, how it was made, how it does, where it falls short. */
export function modelCard(m: {
  version: string;
  config_name: string;
  accuracy: number;
  macro_f1: number;
  weighted_f1: number;
  evaluated_on: string;
  per_class: Record<string, { f1: number; support: number }>;
  feature_count: number;
  model_bytes: number;
  featurizer_bytes: number;
  config: TrainingConfig;
  data_sha256: string;
}): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const weak = Object.entries(m.per_class)
    .filter(([, c]) => c.f1 < 0.05)
    .map(([label]) => label);
  return `# Model ${m.version} (${m.config_name})

Multinomial logistic regression over TF-IDF word ${m.config.featurizer.wordNgramRange.join("-")}-grams and character
${m.config.featurizer.charNgramRange.join("-")}-grams (sublinear tf, L2-normalised), ${m.feature_count.toLocaleString("en-US")} features, C = ${m.config.C}.
Trained by \`MODEL_CONFIG=${m.config_name} make model\` on the fixed train split of the data set
(sha256 ${m.data_sha256.slice(0, 12)}…); see ../../README.md for the method and its limits.

| figure | value |
|---|---|
| accuracy (${m.evaluated_on}) | ${pct(m.accuracy)} |
| macro-F1 | ${pct(m.macro_f1)} |
| weighted-F1 | ${pct(m.weighted_f1)} |
| emotion.onnx + featurizer.json | ${((m.model_bytes + m.featurizer_bytes) / 1e6).toFixed(2)} MB |

Labels it almost never predicts (F1 under 5%): ${weak.length > 0 ? weak.join(", ") : "none"}.
Per-class figures and the confusion matrix are in metrics.json.
`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: Error) => {
    console.error(`model:train: ${error.message}`);
    process.exit(1);
  });
}
