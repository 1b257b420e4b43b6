/**
 * The variants: the inference workers the gateway routes /predict to. The one list of them, read
 * by the /predict contract, the gateway's routing and health, the stack's settings, build and
 * render (native, docker-compose, Prometheus), the experiment report and the rollout rules.
 *
 * Adding a variant takes its folder (workers/<name>/: wrangler.toml, and index.ts calling
 * createInferenceWorker), an entry here, its service binding in the gateway's wrangler.toml (the
 * binding named like the variant in capitals; then `npm run types`), and the model it serves
 * (<NAME>_MODEL, with <NAME>_OPS_PORT, in deployments/settings.env). scripts/stack/manifest.test.ts
 * adds a v3 that way in a copy of the checkout.
 */

export interface VariantSpec {
  /** Its answer's body: production's {"prediction value": label}, or that plus the debug fields. */
  payload: "plain" | "debug";
  /** The X-Experiment-Group value (any case) that routes a request to it, if any. */
  experimentGroup?: string;
}

export const MANIFEST = {
  v1: { payload: "plain" },
  v2: { payload: "debug", experimentGroup: "debug" },
} as const satisfies Record<string, VariantSpec>;

export type Variant = keyof typeof MANIFEST;
export const VARIANTS = Object.keys(MANIFEST) as Variant[];

/**
 * The variant that serves production traffic, and the candidate that the canary, the shadow
 * copies, `make promote` and the experiment report weigh against it.
 */
export const STABLE: Variant = "v1";
export const CANDIDATE: Variant = "v2";

/** The gateway's service binding to a variant (its wrangler.toml [[services]]), and its settings' prefix. */
export const bindingOf = <V extends Variant>(variant: V) => variant.toUpperCase() as Uppercase<V>;

/** The variant an X-Experiment-Group value asks for, if any. */
export function variantOfGroup(group: string | undefined): Variant | undefined {
  const wanted = group?.trim().toLowerCase();
  if (!wanted) return undefined;
  return VARIANTS.find((variant) => (MANIFEST[variant] as VariantSpec).experimentGroup === wanted);
}
