/**
 * Which variant a /predict request goes to (workers/manifest.ts):
 * - an experiment group (X-Experiment-Group, e.g. "debug") to the variant it names, with its own body;
 * - a client whose assignment key falls in the canary (its share: set at run time, else
 *   CANARY_PERCENT) to the candidate, with the stable variant's body;
 * - everyone else to the stable variant.
 */
import { CANDIDATE, STABLE, variantOfGroup } from "../../../manifest.ts";
import type { AppContext } from "../../app-context.ts";
import { ASSIGNMENT_KEY_HEADER, assignmentKey, inCanary } from "../assignment.ts";
import type { Route } from "./upstream.ts";

export const EXPERIMENT_HEADER = "X-Experiment-Group";

export interface RoutingOptions {
  /** Share of ordinary traffic (by assignment key) sent to the candidate now, 0-100. */
  canaryPercent: (c: AppContext) => Promise<number>;
  /** The client's address, for the assignment of a request that is not signed in and sends no key. */
  clientIpOf: (c: AppContext) => string;
}

export async function routeOf(
  c: AppContext,
  { canaryPercent: canaryPercentOf, clientIpOf }: RoutingOptions,
): Promise<Route> {
  const asked = variantOfGroup(c.req.header(EXPERIMENT_HEADER));
  if (asked) return { variant: asked, name: "debug" };
  const canaryPercent = await canaryPercentOf(c);
  if (
    canaryPercent > 0 &&
    inCanary(
      assignmentKey(
        c.req.header(ASSIGNMENT_KEY_HEADER),
        c.get("signedIn")?.consumer.name,
        clientIpOf(c),
      ),
      canaryPercent,
    )
  ) {
    return { variant: CANDIDATE, name: "canary" };
  }
  return { variant: STABLE, name: "stable" };
}
