/**
 * Checks every committed model version (model/versions/<version>/): its id, its files and its
 * card belong together, it fits the size budget, and on the real test split it gives the figures
 * its metrics.json claims (the data set is the repository's, model/data, or DATA_PATH's).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { dataPaths, readDataset, selectSplit } from "./dataset.ts";
import { evaluate } from "./evaluation.ts";
import { Featurizer } from "../serving/featurizer.ts";
import { EmotionClassifier } from "../serving/inference.ts";
import { LABELS } from "../serving/labels.ts";
import { modelVersion, VERSION_PATTERN } from "../serving/model-version.ts";
import { readClassifierAssets } from "./node-assets.ts";
import { decodeOnnx, forwardPass } from "./onnx-export.ts";
import { VERSIONS_DIR } from "./train.ts";

const versions = readdirSync(VERSIONS_DIR).filter((name) =>
  statSync(join(VERSIONS_DIR, name)).isDirectory(),
);
const { dataPath, testIds } = dataPaths();
const testSplit = selectSplit(readDataset(dataPath).examples, testIds);

it("keeps at least two versions: the one v1 serves and a candidate", () => {
  expect(versions.length).toBeGreaterThanOrEqual(2);
});

describe.each(versions)("model version %s", (version) => {
  const dir = join(VERSIONS_DIR, version);
  const metrics = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));
  let assets: Awaited<ReturnType<typeof readClassifierAssets>>;
  let classifier: EmotionClassifier;
  beforeAll(async () => {
    assets = await readClassifierAssets(dir);
    classifier = new EmotionClassifier(assets);
  });

  it("is named for the sha256 of its emotion.onnx + featurizer.json, as its metrics.json and card say", async () => {
    expect(version).toMatch(VERSION_PATTERN);
    const computed = await modelVersion(
      new Uint8Array(readFileSync(join(dir, "emotion.onnx"))),
      new Uint8Array(readFileSync(join(dir, "featurizer.json"))),
    );
    expect(computed).toBe(version);
    expect(metrics.version).toBe(version);
    expect(readFileSync(join(dir, "README.md"), "utf8")).toContain(`# Model ${version}`);
  });

  it("keeps emotion.onnx and featurizer.json within 5 MB together", () => {
    expect(
      statSync(join(dir, "emotion.onnx")).size + statSync(join(dir, "featurizer.json")).size,
    ).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it("classifies 'I love this!' as love and reports its version", async () => {
    expect((await classifier.classify("I love this!")).label).toBe("love");
    expect((await classifier.info()).version).toBe(version);
  });

  describe(`on the real test split (${testSplit.length} tweets)`, () => {
    let onnxProbabilities: Float32Array[];
    beforeAll(async () => {
      onnxProbabilities = [];
      for (const e of testSplit)
        onnxProbabilities.push((await classifier.classify(e.text)).probabilities.slice());
    }, 120_000);

    it("gives onnxruntime-web probabilities within 1e-5 of a TypeScript forward pass, same argmax", () => {
      const weights = decodeOnnx(assets.model as Uint8Array);
      const featurizer = new Featurizer(assets.featurizer);
      let worst = 0;
      testSplit.forEach((e, i) => {
        const { ids, values } = featurizer.featurize(e.text);
        const expected = forwardPass(weights, ids, values);
        const actual = onnxProbabilities[i]!;
        for (let c = 0; c < LABELS.length; c++)
          worst = Math.max(worst, Math.abs(actual[c]! - expected[c]!));
        expect(actual.indexOf(Math.max(...actual))).toBe(expected.indexOf(Math.max(...expected)));
      });
      expect(worst).toBeLessThan(1e-5);
    });

    it("gives the accuracy and macro-F1 its metrics.json claims, at least the scikit-learn reference (0.357, 0.178)", () => {
      const predicted = onnxProbabilities.map((p) => p.indexOf(Math.max(...p)));
      const figures = evaluate(
        LABELS,
        testSplit.map((e) => LABELS.indexOf(e.label)),
        predicted,
      );
      expect(figures.accuracy).toBeCloseTo(metrics.accuracy, 4);
      expect(figures.macro_f1).toBeCloseTo(metrics.macro_f1, 4);
      expect(figures.accuracy).toBeGreaterThanOrEqual(0.357);
      expect(figures.macro_f1).toBeGreaterThanOrEqual(0.178);
    });
  });
});

it("reports a clear error when ORT cannot start, and keeps reporting it", async () => {
  const assets = await readClassifierAssets(join(VERSIONS_DIR, versions[0]!));
  const broken = new EmotionClassifier({ ...assets, model: new Uint8Array([1, 2, 3]) });
  await expect(broken.classify("hi")).rejects.toThrow(/the emotion model could not start/);
  await expect(broken.classify("hi")).rejects.toThrow(/the emotion model could not start/);
});
