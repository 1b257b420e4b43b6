import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "model", include: ["model/**/*.test.ts"], environment: "node", testTimeout: 30_000 },
      },
      "workers/*/vitest.config.ts",
    ],
  },
});
