/**
 * The worker a test project runs (its wrangler.toml's main), for tests inside workerd. Typed here
 * because the projects share one tsconfig, so GlobalProps cannot name each project's main module.
 */
import { exports } from "cloudflare:workers";

export const workerUnderTest = (exports as unknown as { default: Fetcher }).default;
