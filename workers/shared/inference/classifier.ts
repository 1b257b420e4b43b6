/**
 * The emotion classifier as the v1 and v2 workers load it: the model and featurizer bundled as
 * modules, ORT's wasm imported precompiled (workerd cannot compile wasm at run time). One instance
 * per isolate; it loads on first use.
 */
import wasm from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import model from "../../../model/emotion.onnx";
// JSON imports type ranges as number[]; the file is the trainer's FeaturizerData, checked at load.
import featurizer from "../../../model/featurizer.json";
import type { FeaturizerData } from "../../../model/serving/featurizer.ts";
import { EmotionClassifier } from "../../../model/serving/inference.ts";

export const classifier = new EmotionClassifier({ model, featurizer: featurizer as unknown as FeaturizerData, wasm });
