/**
 * The emotion classifier as an inference worker loads it: the model version its build selected
 * (workers/<variant>/selected-model.ts, written by `npm run build` from its <NAME>_MODEL),
 * bundled as modules, and ORT's wasm imported precompiled (workerd cannot compile wasm at run
 * time). One instance per isolate; it loads on first use.
 */
import wasm from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import type { FeaturizerData } from "../../../model/serving/featurizer.ts";
import { EmotionClassifier } from "../../../model/serving/inference.ts";

export interface SelectedModel {
  version: string;
  model: ArrayBuffer;
  /** JSON imports type ranges as number[]; the file is the trainer's FeaturizerData, checked at load. */
  featurizer: unknown;
}

export const classifierOf = (selected: SelectedModel) =>
  new EmotionClassifier({
    model: selected.model,
    featurizer: selected.featurizer as FeaturizerData,
    wasm,
    version: selected.version,
  });
