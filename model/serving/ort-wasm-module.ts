/**
 * Lets onnxruntime-web start from an already compiled WebAssembly.Module.
 *
 * workerd refuses to compile wasm from bytes at run time ("Wasm code generation disallowed by
 * embedder"): its wasm must be imported as a module, which wrangler precompiles. But ORT only hands
 * emscripten a `wasmBinary` (never `instantiateWasm`), and emscripten calls
 * WebAssembly.instantiate(bytes, imports). So we give ORT a sentinel buffer as `wasmBinary`, and
 * wrap WebAssembly.instantiate so that a call with the sentinel instantiates our Module with the
 * imports emscripten built; every other call goes to the original. The same path serves Node,
 * where the test suite compiles the Module itself.
 */
import type { Env as OrtEnv } from "onnxruntime-web";

const SENTINEL = new ArrayBuffer(8);
let installed: WebAssembly.Module | undefined;

function isSentinel(source: unknown): boolean {
  return source === SENTINEL || (ArrayBuffer.isView(source) && source.buffer === SENTINEL);
}

export function useCompiledWasm(env: OrtEnv, wasm: WebAssembly.Module): void {
  env.wasm.numThreads = 1; // no SharedArrayBuffer workers at the edge
  env.wasm.proxy = false;
  env.wasm.wasmBinary = SENTINEL;
  if (installed === wasm) return;
  if (installed !== undefined)
    throw new Error("onnxruntime-web is already bound to another wasm module");
  installed = wasm;
  const original = WebAssembly.instantiate.bind(WebAssembly);
  WebAssembly.instantiate = (async (source: unknown, imports?: WebAssembly.Imports) => {
    if (!isSentinel(source)) return original(source as BufferSource, imports);
    const instance = await original(wasm, imports);
    return { instance, module: wasm };
  }) as typeof WebAssembly.instantiate;
}
