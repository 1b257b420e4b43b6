/** The gateway's way to the rollout's state: one RolloutState object, named once. */
import type { RolloutState } from "./rollout-state.ts";

export const ROLLOUT_NAME = "rollout";

export const rolloutOf = (namespace: DurableObjectNamespace<RolloutState>) => () =>
  // A stub per call: a stub made during one request is not to be used for I/O in another.
  namespace.get(namespace.idFromName(ROLLOUT_NAME));
