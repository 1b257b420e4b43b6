/**
 * The model version a workerd process serves, by its ops port's /health; undefined when it does
 * not answer. Imports nothing: the rollout controller's bundle uses it too.
 */
export async function servedVersion(opsPort: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${opsPort}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    return response.ok
      ? ((await response.json()) as { model?: { version?: string } }).model?.version
      : undefined;
  } catch {
    return undefined;
  }
}
