/** The gateway's way to the registry: one ConsumerRegistry object, named once. */
import type { ConsumerRegistry } from "./consumer-registry.ts";

export const REGISTRY_NAME = "registry";

export function registryOf(namespace: DurableObjectNamespace<ConsumerRegistry>) {
  // A stub per call: a stub made during one request is not to be used for I/O in another.
  const registry = () => namespace.get(namespace.idFromName(REGISTRY_NAME));
  return {
    registry,
    snapshot: (knownVersion: string, used: Record<string, number>) =>
      registry().snapshot(knownVersion, used),
    leaseQuota: (consumer: string, day: string, want: number, limit: number) =>
      registry().leaseQuota(consumer, day, want, limit),
  };
}
