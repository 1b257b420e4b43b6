/**
 * The modules of a built worker (dist/<worker>, from `npm run build`), typed as workerd wants them.
 * Listed rather than discovered: ORT's glue holds a dynamic import() that discovery cannot follow.
 * Used by the local stack's workerd configs and by the gateway's tests.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

export type ModuleType = "esModule" | "wasm" | "data" | "text";

/**
 * By file name. Besides the entry, our bundles import JavaScript only as text (the gateway's
 * Swagger UI, through its wrangler.toml Text rule), so any other .js is a text module.
 */
function moduleType(name: string): ModuleType | undefined {
  if (name === "index.js") return "esModule";
  if (name.endsWith(".wasm")) return "wasm";
  if (name.endsWith(".onnx")) return "data";
  if (name.endsWith(".js") || name.endsWith(".css")) return "text";
  return undefined;
}

export interface BundleModule {
  /** The name the bundle imports it by. */
  name: string;
  path: string;
  type: ModuleType;
}

/** The entry (index.js) first, as workerd and Miniflare take the first module as the main one. */
export function bundleModules(dir: string): BundleModule[] {
  const modules = readdirSync(dir).flatMap((name) => {
    const type = moduleType(name);
    return type ? [{ name, path: join(dir, name), type }] : [];
  });
  if (!modules.some((m) => m.name === "index.js"))
    throw new Error(`${dir} holds no index.js: run npm run build`);
  return modules.sort((a, b) => Number(b.name === "index.js") - Number(a.name === "index.js"));
}
