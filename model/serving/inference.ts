/**
 * The one inference module: sentence in, label and the 13 probabilities out. Used by the v1 and v2
 * workers inside workerd and by the tests and benchmarks in Node.
 *
 * Nothing loads at construction. The onnxruntime-web session is created on first use, once per
 * isolate, and kept as a promise: a failed start-up of ORT's wasm cannot be retried in the same
 * isolate, so the failure is kept too and every call reports it as a ModelUnavailableError.
 */
import * as ort from "onnxruntime-web/wasm";
import { Featurizer, type FeaturizerData } from "./featurizer.ts";
import { LABELS, type Label } from "./labels.ts";
import { INPUT_IDS, INPUT_VALUES, OUTPUT } from "./graph-names.ts";
import { useCompiledWasm } from "./ort-wasm-module.ts";

export interface ClassifierAssets {
  /** model/emotion.onnx */
  model: ArrayBuffer | Uint8Array<ArrayBuffer>;
  /** model/featurizer.json */
  featurizer: FeaturizerData;
  /** onnxruntime-web's ort-wasm-simd-threaded.wasm, compiled (in workerd: imported as a module). */
  wasm: WebAssembly.Module;
  /** The version (model/versions/<version>): sha256 of emotion.onnx + featurizer.json, 12 digits. */
  version: string;
}

export interface Prediction {
  label: Label;
  /** Indexed by LABELS. */
  probabilities: Float32Array;
}

export interface ModelInfo {
  sha256: string;
  /** The model's version, as model/versions names it. */
  version: string;
  loadSeconds: number;
}

export class ModelUnavailableError extends Error {
  override name = "ModelUnavailableError";
}

interface Loaded {
  session: ort.InferenceSession;
  featurizer: Featurizer;
  info: ModelInfo;
}

async function run(
  session: ort.InferenceSession,
  featurizer: Featurizer,
  sentence: string,
): Promise<Float32Array> {
  const { ids, values } = featurizer.featurize(sentence);
  const outputs = await session.run({
    [INPUT_IDS]: new ort.Tensor("int32", ids, [ids.length]),
    [INPUT_VALUES]: new ort.Tensor("float32", values, [1, values.length]),
  });
  return outputs[OUTPUT]!.data as Float32Array;
}

async function load(assets: ClassifierAssets): Promise<Loaded> {
  const started = performance.now();
  const bytes = assets.model instanceof Uint8Array ? assets.model : new Uint8Array(assets.model);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  useCompiledWasm(ort.env, assets.wasm);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  const featurizer = new Featurizer(assets.featurizer);
  // One run at load: proves the graph answers with one probability per label, and warms it up.
  const probe = await run(session, featurizer, "");
  if (probe.length !== LABELS.length) {
    throw new Error(
      `the model gives ${probe.length} outputs, expected ${LABELS.length} (one per label)`,
    );
  }
  const loadSeconds = (performance.now() - started) / 1000;
  return { session, featurizer, info: { sha256, version: assets.version, loadSeconds } };
}

export class EmotionClassifier {
  private loaded: Promise<Loaded> | undefined;

  constructor(private readonly assets: ClassifierAssets) {}

  /** Loads the model if it is not loaded yet; rejects with ModelUnavailableError if it cannot. */
  ready(): Promise<Loaded> {
    this.loaded ??= load(this.assets).catch((cause: unknown) => {
      throw new ModelUnavailableError(
        `the emotion model could not start: ${(cause as Error)?.message ?? cause}`,
        { cause },
      );
    });
    return this.loaded;
  }

  async info(): Promise<ModelInfo> {
    return (await this.ready()).info;
  }

  async classify(sentence: string): Promise<Prediction> {
    const { session, featurizer } = await this.ready();
    const probabilities = await run(session, featurizer, sentence);
    let best = 0;
    for (let c = 1; c < probabilities.length; c++)
      if (probabilities[c]! > probabilities[best]!) best = c;
    return { label: LABELS[best]!, probabilities };
  }
}
