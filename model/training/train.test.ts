import { describe, expect, it } from "vitest";
import type { Example } from "./dataset.ts";
import { LABELS } from "../serving/labels.ts";
import { TRAINING_CONFIGS, trainEmotionModel } from "./train.ts";

/** A small made-up corpus: each label has its own cue word among shared filler. */
function corpus(): Example[] {
  const filler = ["today", "the movie", "my friend", "work again", "this weekend"];
  return LABELS.flatMap((label, c) =>
    filler.map((f, i) => ({
      id: `${c}-${i}`,
      label,
      text: `${f} feels ${label}ish &amp; ${label}ly @pal`,
    })),
  );
}

describe("trainEmotionModel", () => {
  const config = {
    ...TRAINING_CONFIGS.baseline!,
    maxWordFeatures: 200,
    maxCharFeatures: 400,
    maxIterations: 50,
  };

  it("writes a byte-identical emotion.onnx and featurizer for the same data and config", () => {
    const first = trainEmotionModel(corpus(), config, "sha");
    const second = trainEmotionModel(corpus(), config, "sha");
    expect(Buffer.from(second.onnxBytes).equals(Buffer.from(first.onnxBytes))).toBe(true);
    expect(second.featurizerJson).toBe(first.featurizerJson);
  });

  it("keeps the vocabulary within the configured limits", () => {
    const { featurizerData } = trainEmotionModel(corpus(), config, "sha");
    expect(featurizerData.words.length).toBeLessThanOrEqual(200);
    expect(featurizerData.chars.length).toBeLessThanOrEqual(400);
  });
});
