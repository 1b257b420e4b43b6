/**
 * A flood of new client addresses must not leave the gateway bigger or the disk fuller: the rate
 * limiter's state is bounded (a fixed set of shards, nothing stored for a client within its budget).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { paths } from "../../scripts/stack/settings.ts";
import { pidOf } from "../../scripts/stack/supervisor.ts";
import { freshClient, predict } from "./client.ts";

const NEW_ADDRESSES = 3000;
const CONCURRENCY = 32;

const rssMb = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

function filesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (count, entry) => count + (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : 1),
    0,
  );
}

describe("a flood of new client addresses", () => {
  it("leaves the gateway's RSS at most 64 MB above where it started and at most 100 new state files, a minute after 3,000 new addresses sent one request each", async () => {
    const gateway = pidOf("gateway");
    const rssBefore = rssMb(gateway);
    const filesBefore = filesUnder(paths.durableObjects);

    const addresses = Array.from({ length: NEW_ADDRESSES }, freshClient);
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, lane) => {
        for (let i = lane; i < addresses.length; i += CONCURRENCY) {
          const { status } = await predict("a new face", { from: addresses[i] });
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 200: NEW_ADDRESSES });
    const rssRightAfter = rssMb(gateway);

    await sleep(60_000);
    expect(pidOf("gateway")).toBe(gateway); // the same process throughout: nothing was reset by a restart
    const growth = {
      rightAfterMb: Math.round(rssRightAfter - rssBefore),
      aMinuteLaterMb: Math.round(rssMb(gateway) - rssBefore),
    };
    console.log(JSON.stringify({ rssBeforeMb: Math.round(rssBefore), ...growth }));
    expect(growth.aMinuteLaterMb).toBeLessThanOrEqual(64);
    expect(filesUnder(paths.durableObjects) - filesBefore).toBeLessThanOrEqual(100);
  }, 180_000);
});
