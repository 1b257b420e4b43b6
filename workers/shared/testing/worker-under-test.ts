/**
 * The worker a test project runs (its wrangler.toml's main), for tests inside workerd. Typed here
 * because the projects share one tsconfig, so GlobalProps cannot name each project's main module.
 */
import { exports } from "cloudflare:workers";

const entrypoints = exports as unknown as { default: Fetcher; Ops: Fetcher };

/** The default entrypoint: the traffic socket's. */
export const workerUnderTest = entrypoints.default;
/** The `Ops` entrypoint: the ops port's (/health and /metrics). */
export const opsOfWorkerUnderTest = entrypoints.Ops;
