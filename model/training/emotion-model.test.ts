/**
 * Checks the committed model artifacts: the bars of the "Emotion model" issue. The checks on the
 * real test split need ../shared/data (or DATA_PATH); without it they are skipped, and say so.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readDataset, selectSplit, type Example } from "./dataset.ts";
import { evaluate } from "./evaluation.ts";
import { Featurizer } from "../serving/featurizer.ts";
import { EmotionClassifier } from "../serving/inference.ts";
import { LABELS } from "../serving/labels.ts";
import { MODEL_DIR, readClassifierAssets } from "./node-assets.ts";
import { decodeOnnx, forwardPass } from "./onnx-export.ts";
import { dataPaths } from "./train.ts";

const assets = await readClassifierAssets();
const classifier = new EmotionClassifier(assets);

describe("the committed model", () => {
  it("classifies 'I love this!' as love", async () => {
    expect((await classifier.classify("I love this!")).label).toBe("love");
  });

  it("keeps emotion.onnx and featurizer.json within 5 MB together", () => {
    const bytes = statSync(join(MODEL_DIR, "emotion.onnx")).size + statSync(join(MODEL_DIR, "featurizer.json")).size;
    expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it("is the model metrics.json describes", async () => {
    const metrics = JSON.parse(readFileSync(join(MODEL_DIR, "metrics.json"), "utf8"));
    const sha = createHash("sha256").update(readFileSync(join(MODEL_DIR, "emotion.onnx"))).digest("hex");
    expect(metrics.model_sha256).toBe(sha);
    expect((await classifier.info()).sha256).toBe(sha);
  });

  it("reports a clear error when ORT cannot start, and keeps reporting it", async () => {
    const broken = new EmotionClassifier({ ...assets, model: new Uint8Array([1, 2, 3]) });
    await expect(broken.classify("hi")).rejects.toThrow(/the emotion model could not start/);
    await expect(broken.classify("hi")).rejects.toThrow(/the emotion model could not start/);
  });
});

const { dataPath, testIds } = dataPaths();
const haveData = existsSync(dataPath) && existsSync(testIds);

describe.skipIf(!haveData)(`on the real test split (skipped when ${dataPath} is absent)`, () => {
  let test: Example[];
  let onnxProbabilities: Float32Array[];

  beforeAll(async () => {
    test = selectSplit(readDataset(dataPath).examples, testIds);
    onnxProbabilities = [];
    for (const e of test) onnxProbabilities.push((await classifier.classify(e.text)).probabilities.slice());
  }, 120_000);

  it("gives onnxruntime-web probabilities within 1e-5 of a TypeScript forward pass, same argmax", () => {
    const weights = decodeOnnx(assets.model as Uint8Array);
    const featurizer = new Featurizer(assets.featurizer);
    let worst = 0;
    test.forEach((e, i) => {
      const { ids, values } = featurizer.featurize(e.text);
      const expected = forwardPass(weights, ids, values);
      const actual = onnxProbabilities[i]!;
      for (let c = 0; c < LABELS.length; c++) worst = Math.max(worst, Math.abs(actual[c]! - expected[c]!));
      expect(actual.indexOf(Math.max(...actual))).toBe(expected.indexOf(Math.max(...expected)));
    });
    expect(worst).toBeLessThan(1e-5);
  });

  it("reaches at least the scikit-learn reference: accuracy >= 0.357, macro-F1 >= 0.178", () => {
    const predicted = onnxProbabilities.map((p) => p.indexOf(Math.max(...p)));
    const figures = evaluate(LABELS, test.map((e) => LABELS.indexOf(e.label)), predicted);
    expect(figures.accuracy).toBeGreaterThanOrEqual(0.357);
    expect(figures.macro_f1).toBeGreaterThanOrEqual(0.178);
  });
});
