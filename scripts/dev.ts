/**
 * `npm run dev`: the gateway and every variant (workers/manifest.ts) in one `wrangler dev`, offline,
 * with wrangler's state under .wrangler/. The first config is the one served; the others are
 * reached through its service bindings.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { VARIANTS } from "../workers/manifest.ts";
import { ROOT, WRANGLER_CONFIGS } from "./stack/settings.ts";

const configs = ["gateway" as const, ...VARIANTS].flatMap((worker) => [
  "-c",
  WRANGLER_CONFIGS[worker],
]);
const dev = spawnSync(
  join(ROOT, "scripts/wrangler-offline"),
  ["dev", ...configs, "--persist-to", join(ROOT, ".wrangler/state"), ...process.argv.slice(2)],
  {
    cwd: ROOT,
    stdio: "inherit",
  },
);
process.exit(dev.status ?? 1);
