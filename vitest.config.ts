import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { parse } from "smol-toml";
import { defineConfig } from "vitest/config";
import { bundleModules } from "./scripts/stack/bundle-modules.ts";
import { hashPassword } from "./workers/gateway/middleware/basic-auth/password-hash.ts";
import { TEST_PASSWORD, TEST_USER } from "./workers/gateway/test-credentials.ts";
import { VARIANTS, type Variant } from "./workers/manifest.ts";
const wranglerConfig = (variant: Variant) =>
  parse(readFileSync(`workers/${variant}/wrangler.toml`, "utf8"));

/** An inference worker's tests run inside workerd, on its own wrangler.toml. */
const inferenceWorker = (variant: Variant) => ({
  plugins: [cloudflareTest({ wrangler: { configPath: `./workers/${variant}/wrangler.toml` } })],
  // The first test pays for loading the model through vite: seconds, once.
  test: { name: variant, include: [`workers/${variant}/**/*.test.ts`], testTimeout: 60_000 },
});

/** Miniflare's names for workerd's module types. */
const MINIFLARE_TYPES = {
  esModule: "ESModule",
  wasm: "CompiledWasm",
  data: "Data",
  text: "Text",
} as const;

/** A built variant (npm run build), behind the gateway's service binding to it. */
const builtInferenceWorker = (variant: Variant) => {
  const config = wranglerConfig(variant);
  const dir = `dist/${variant}`;
  return {
    name: config.name as string,
    modulesRoot: dir,
    modules: bundleModules(dir).map((m) => ({ type: MINIFLARE_TYPES[m.type], path: m.path })),
    compatibilityDate: config.compatibility_date as string,
    bindings: config.vars as Record<string, string>,
  };
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "model",
          include: ["model/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "stack",
          include: ["scripts/**/*.test.ts", "workers/shared/**/*.test.ts", "bench/**/*.test.ts"],
          environment: "node",
        },
      },
      ...VARIANTS.map(inferenceWorker),
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                API_USERS: `${TEST_USER}:${await hashPassword(TEST_PASSWORD)}`,
                // A secret for this test run only.
                FEEDBACK_SECRET: randomBytes(32).toString("base64url"),
                // As the local stack runs it: behind nginx, which sets X-Real-IP.
                CLIENT_IP_HEADER: "X-Real-IP",
                // One token a second: a test's own requests (PBKDF2, first model load) take long
                // enough to refill a 10/s bucket mid-sequence. The GCRA tests drive the clock instead.
                RATE_LIMIT_RPS: "1",
                // The hash budget is tested on a tiny app (basic-auth/hash-budget.test.ts); here it
                // must not turn the other tests' wrong passwords into 429s.
                AUTH_HASHES_PER_SECOND: "1000",
                // Nor must the consumer's own limit (its tests build gateways of their own).
                CONSUMER_RATE_LIMIT_RPS: "1000",
                CONSUMER_RATE_LIMIT_BURST: "1000",
                // So is the limiter's deadline (rate-limit/limiter-deadline.test.ts); here a busy
                // machine's slow first Durable Object call must not turn into 503s (seen: 500 ms).
                RATE_LIMITER_DEADLINE_MS: "10000",
              },
              workers: VARIANTS.map(builtInferenceWorker),
            },
          }),
        ],
        test: { name: "gateway", include: ["workers/gateway/**/*.test.ts"], testTimeout: 60_000 },
      },
      // Against the running stack (make test starts it): one file at a time, as they share it.
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
