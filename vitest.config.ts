import { readdirSync, readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { parse } from "smol-toml";
import { defineConfig } from "vitest/config";
import { hashPassword } from "./workers/gateway/middleware/basic-auth/password-hash.ts";
import { TEST_PASSWORD, TEST_USER } from "./workers/gateway/test-credentials.ts";

type Variant = "v1" | "v2";
const wranglerConfig = (variant: Variant) => parse(readFileSync(`workers/${variant}/wrangler.toml`, "utf8"));

/** An inference worker's tests run inside workerd, on its own wrangler.toml. */
const inferenceWorker = (variant: Variant) => ({
  plugins: [cloudflareTest({ wrangler: { configPath: `./workers/${variant}/wrangler.toml` } })],
  // The first test pays for loading the model through vite: seconds, once.
  test: { name: variant, include: [`workers/${variant}/**/*.test.ts`], testTimeout: 60_000 },
});

const MODULE_TYPES = { ".js": "ESModule", ".wasm": "CompiledWasm", ".onnx": "Data" } as const;

/**
 * A built inference worker (npm run build), behind the gateway's V1/V2 service bindings. Its
 * modules are listed, not discovered: Miniflare's discovery stops at ORT's dynamic import().
 */
const builtInferenceWorker = (variant: Variant) => {
  const config = wranglerConfig(variant);
  const dir = `dist/${variant}`;
  const files = readdirSync(dir).filter((f) => Object.keys(MODULE_TYPES).some((ext) => f.endsWith(ext)));
  return {
    name: config.name as string,
    modulesRoot: dir,
    modules: files
      .sort((a) => (a === "index.js" ? -1 : 1)) // the entry module first
      .map((f) => ({ type: MODULE_TYPES[f.slice(f.lastIndexOf(".")) as keyof typeof MODULE_TYPES], path: `${dir}/${f}` })),
    compatibilityDate: config.compatibility_date as string,
    bindings: config.vars as Record<string, string>,
  };
};

export default defineConfig({
  test: {
    projects: [
      { test: { name: "model", include: ["model/**/*.test.ts"], environment: "node", testTimeout: 30_000 } },
      inferenceWorker("v1"),
      inferenceWorker("v2"),
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                API_USERS: `${TEST_USER}:${await hashPassword(TEST_PASSWORD)}`,
                // As the local stack runs it: behind nginx, which sets X-Real-IP.
                CLIENT_IP_HEADER: "X-Real-IP",
                // One token a second: a test's own requests (PBKDF2, first model load) take long
                // enough to refill a 10/s bucket mid-sequence. The GCRA tests drive the clock instead.
                RATE_LIMIT_RPS: "1",
              },
              workers: [builtInferenceWorker("v1"), builtInferenceWorker("v2")],
            },
          }),
        ],
        test: { name: "gateway", include: ["workers/gateway/**/*.test.ts"], testTimeout: 60_000 },
      },
    ],
  },
});
