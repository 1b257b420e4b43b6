/**
 * `make promote` then `make rollback` on the running stack under 100 requests a second from
 * clients that keep their connections alive: no request fails, and X-Model-Version moves from
 * v1's model to v2's and back.
 */
import { existsSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSettings, MODEL_SELECTION } from "../../scripts/stack/settings.ts";
import { execFileSync } from "node:child_process";
import { pidOf } from "../../scripts/stack/supervisor.ts";
import { restartGatewayWith, stack, steadyLoad } from "./client.ts";

/** nginx's worker processes: a reload replaces them, closing the clients' idle connections. */
const frontWorkers = () =>
  execFileSync("pgrep", ["-P", String(pidOf("nginx")), "-f", "worker process"], {
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .sort();

/**
 * Clients that reuse their connections often, as a pool does under load: 5 addresses of 20
 * requests a second each, which the stack's per-address limit allows here.
 */
const ADDRESSES = 5;
const PER_ADDRESS = { RATE_LIMIT_RPS: "50", RATE_LIMIT_BURST: "100" };

describe("promote and rollback", () => {
  const [v1Model, v2Model] = [loadSettings().variants.v1.model, loadSettings().variants.v2.model];

  beforeAll(async () => {
    await restartGatewayWith(PER_ADDRESS, { reloadFront: true });
  }, 30_000);

  afterAll(async () => {
    // The stack the other suites use keeps the settings' choice, and its limits.
    if (existsSync(MODEL_SELECTION)) rmSync(MODEL_SELECTION);
    await restartGatewayWith({}, { reloadFront: true });
  }, 30_000);

  it("moves v1 to v2's model and back under 100 req/s from kept-alive clients with no failed request, replica by replica", async () => {
    expect(v1Model).not.toBe(v2Model);
    const moments: Record<string, number> = {};
    let started = 0;
    const load = steadyLoad(
      100,
      40,
      async () => {
        moments.promoteFrom = Date.now() - started;
        await stack("promote");
        moments.promotedAt = Date.now() - started;
        await sleep(2000);
        moments.rollbackFrom = Date.now() - started;
        await stack("rollback");
        moments.rolledBackAt = Date.now() - started;
      },
      { keepAlive: true, addresses: ADDRESSES },
    );
    const workers = frontWorkers();
    started = Date.now();
    const { cutShort, failures, served } = await load;
    expect(frontWorkers(), "nginx's front was not reloaded").toEqual(workers);
    expect(cutShort, "the load went on until a second after the action").toBe(false);
    expect(failures).toEqual([]);
    const versionsBetween = (from: number, to: number) =>
      new Set(
        served.filter((s) => s.sentAtMs >= from && s.sentAtMs < to).map((s) => s.modelVersion),
      );
    expect(versionsBetween(0, moments.promoteFrom!)).toEqual(new Set([v1Model]));
    expect(versionsBetween(moments.promotedAt!, moments.rollbackFrom!)).toEqual(new Set([v2Model]));
    expect(versionsBetween(moments.rolledBackAt!, Infinity)).toEqual(new Set([v1Model]));
  }, 150_000);
});
