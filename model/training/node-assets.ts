/** Loads the classifier's assets from disk, for Node (tests, evaluation, benchmarks). */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FeaturizerData } from "../serving/featurizer.ts";
import type { ClassifierAssets } from "../serving/inference.ts";

/** model/: the trained artifacts beside serving/ and training/. */
export const MODEL_DIR = fileURLToPath(new URL("..", import.meta.url));

export function compileOrtWasm(): Promise<WebAssembly.Module> {
  const path = createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");
  // Node only: workerd forbids compiling wasm from bytes, so workers-types leaves compile() out.
  const { compile } = WebAssembly as unknown as { compile(bytes: Uint8Array): Promise<WebAssembly.Module> };
  return compile(readFileSync(path));
}

export async function readClassifierAssets(dir = MODEL_DIR): Promise<ClassifierAssets> {
  return {
    model: readFileSync(join(dir, "emotion.onnx")),
    featurizer: JSON.parse(readFileSync(join(dir, "featurizer.json"), "utf8")) as FeaturizerData,
    wasm: await compileOrtWasm(),
  };
}
