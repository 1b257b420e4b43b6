/** Loads the classifier's assets from disk, for Node (tests, evaluation, benchmarks). */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { FeaturizerData } from "../serving/featurizer.ts";
import type { ClassifierAssets } from "../serving/inference.ts";

let ortWasm: Promise<WebAssembly.Module> | undefined;

/** ORT's wasm, compiled once: onnxruntime-web binds itself to the first module it is given, for good. */
export function compileOrtWasm(): Promise<WebAssembly.Module> {
  const path = createRequire(import.meta.url).resolve(
    "onnxruntime-web/ort-wasm-simd-threaded.wasm",
  );
  // Node only: workerd forbids compiling wasm from bytes, so workers-types leaves compile() out.
  const { compile } = WebAssembly as unknown as {
    compile(bytes: Uint8Array): Promise<WebAssembly.Module>;
  };
  ortWasm ??= compile(readFileSync(path));
  return ortWasm;
}

export async function readClassifierAssets(dir: string): Promise<ClassifierAssets> {
  return {
    model: readFileSync(join(dir, "emotion.onnx")),
    featurizer: JSON.parse(readFileSync(join(dir, "featurizer.json"), "utf8")) as FeaturizerData,
    version: (JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as { version: string })
      .version,
    wasm: await compileOrtWasm(),
  };
}
