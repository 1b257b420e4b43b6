import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** An inference worker's tests run inside workerd, on its own wrangler.toml. */
const inferenceWorker = (variant: "v1" | "v2") => ({
  plugins: [cloudflareTest({ wrangler: { configPath: `./workers/${variant}/wrangler.toml` } })],
  // The first test pays for loading the model through vite: seconds, once.
  test: { name: variant, include: [`workers/${variant}/**/*.test.ts`], testTimeout: 60_000 },
});

export default defineConfig({
  test: {
    projects: [
      { test: { name: "model", include: ["model/**/*.test.ts"], environment: "node", testTimeout: 30_000 } },
      inferenceWorker("v1"),
      inferenceWorker("v2"),
    ],
  },
});
