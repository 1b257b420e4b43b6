// Module types for what wrangler's bundling rules import (see the `rules` of each wrangler.toml).
declare module "*.onnx" {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
