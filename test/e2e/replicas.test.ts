import { describe, expect, it } from "vitest";
import { call, freshClient, predict, settings, stack } from "./client.ts";
import { workerProcesses } from "../../scripts/stack/settings.ts";

const replicas = workerProcesses(settings).filter((p) => p.worker === "v1");

async function predictionsPerReplica(): Promise<number[]> {
  return Promise.all(
    replicas.map(async (replica) => {
      const text = (await call("/metrics", { httpPort: replica.opsPort })).body;
      return [...text.matchAll(/^fortress_predictions_total\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    }),
  );
}

/** 90 predictions, 5 at once from each of 18 fresh addresses (within each one's burst); each replica's share of them. */
async function sharesOf90(): Promise<number[]> {
  const before = await predictionsPerReplica();
  for (let i = 0; i < 18; i++) {
    const client = freshClient();
    const statuses = await Promise.all(
      Array.from({ length: 5 }, () => predict("spread me", { from: client })),
    );
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  }
  const after = await predictionsPerReplica();
  const served = after.map((n, i) => n - before[i]!);
  expect(served.reduce((a, b) => a + b, 0)).toBe(90);
  return served.map((count) => count / 90);
}

describe("the v1 pool", () => {
  it("spreads 90 requests over the replicas, each serving 20% to 46%, by their own metrics", async () => {
    for (const share of await sharesOf90()) {
      expect(share).toBeGreaterThanOrEqual(0.2);
      expect(share).toBeLessThanOrEqual(0.46);
    }
  });

  it("spreads the first requests after a start over every replica, each serving 20% to 46%: healthy means in nginx's pool", async () => {
    await stack("stop");
    const { stdout } = await stack("start");
    expect(stdout).toMatch(/every replica answering through its nginx pool/);
    for (const share of await sharesOf90()) {
      expect(share).toBeGreaterThanOrEqual(0.2);
      expect(share).toBeLessThanOrEqual(0.46);
    }
  }, 90_000);
});
