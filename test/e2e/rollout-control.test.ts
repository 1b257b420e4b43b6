/**
 * The canary's share at run time and the automated rollout, on the running stack, under load from
 * kept-alive clients with assignment keys of their own: a share set by hand reaches every client
 * within 5 s and outlives a gateway restart; a good candidate is stepped to 100 % and promoted, a
 * broken one rolled back, neither failing a request of v1's clients.
 */
import { execFile as execFileCallback } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { loadSettings, MODEL_SELECTION, ROOT } from "../../scripts/stack/settings.ts";
import { supervisorctl } from "../../scripts/stack/supervisor.ts";
import { freshClient, predict, restartGatewayWith, stack, steadyLoad, within } from "./client.ts";

const execFile = promisify(execFileCallback);

/** `npm run rollout -- ARGS` as an operator runs it, with these settings: its output and exit code. */
async function rollout(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout } = await execFile(
      process.execPath,
      ["--import", "tsx", "scripts/rollout/cli.ts", ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 300_000, encoding: "utf8" },
    );
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

const status = async () => JSON.parse((await rollout(["status", "--json"])).stdout);
const variantOf = async (key: string) =>
  String(
    (await predict("I love this!", { headers: { "X-Assignment-Key": key } })).headers["x-variant"],
  );
/** Keys that every share of the canary above 0 sends to v2 and 0 keeps on v1: none of them. */
const keys = Array.from({ length: 20 }, (_, i) => `control-${process.pid}-${i}`);
const allOn = async (variant: string) =>
  (await Promise.all(keys.map(variantOf))).every((v) => v === variant);

/** A steady load whose requests each bring an assignment key of their own, so the canary takes its share. */
const loadWithKeys = (rps: number, seconds: number, during: () => Promise<void>) =>
  steadyLoad(rps, seconds, during, {
    keepAlive: true,
    headersOf: (n) => ({ "X-Assignment-Key": `load-${process.pid}-${Date.now()}-${n}` }),
  });

/** A fast rollout: five steps of 12 s, a verdict on 3 canary requests. */
const FAST = { ROLLOUT_STEP_SECONDS: "12", ROLLOUT_MIN_REQUESTS: "3", ROLLOUT_HOLD_STEPS: "3" };

describe("the canary's share at run time", () => {
  afterAll(async () => {
    await rollout(["canary", "default", "--reason", "the end-to-end suite's own"]);
  });

  it("moves every client to v2 within 5 s with `rollout canary 100`, failing no request, keeps it across a gateway restart, and `canary default` brings CANARY_PERCENT back", async () => {
    expect(await allOn("v1")).toBe(true);
    let tookMs: number | undefined;
    const { failures } = await steadyLoad(
      20,
      8,
      async () => {
        const set = await rollout(["canary", "100", "--reason", "e2e: all to v2"]);
        expect(set.code).toBe(0);
        tookMs = await within(5000, () => allOn("v2"));
      },
      { keepAlive: true },
    );
    expect(tookMs, "every client on v2 within 5 s").toBeDefined();
    expect(failures).toEqual([]);

    await restartGatewayWith({});
    expect(await allOn("v2")).toBe(true);

    expect((await rollout(["canary", "default", "--reason", "e2e: back"])).code).toBe(0);
    expect(await within(5000, () => allOn("v1"))).toBeDefined();
  }, 90_000);

  it("says in `status` the share and where it comes from, both versions, a verdict and the history with reasons", async () => {
    await rollout(["canary", "7", "--reason", "e2e: seven"]);
    const said = await status();
    expect(said).toMatchObject({
      canaryPercent: 7,
      setAtRunTime: true,
      versions: { v1: loadSettings().variants.v1.model, v2: loadSettings().variants.v2.model },
      verdict: { verdict: expect.stringMatching(/^(promote|hold|roll back)$/) },
    });
    expect(said.history[0]).toMatchObject({
      percent: 7,
      reason: "e2e: seven",
      actor: expect.any(String),
    });
    const text = (await rollout(["status"])).stdout;
    expect(text).toMatch(/^canary share: 7% \(set at run time; wins over CANARY_PERCENT\)$/m);
    expect(text).toMatch(/e2e: seven$/m);
  });
});

describe("an automated rollout", () => {
  afterAll(async () => {
    supervisorctl("start", "v2");
    if (loadSettings().variants.v1.model === loadSettings().variants.v2.model)
      await stack("rollback");
    // The stack the other suites use keeps the settings' choice.
    if (existsSync(MODEL_SELECTION)) rmSync(MODEL_SELECTION);
    await rollout(["canary", "default", "--reason", "the end-to-end suite's own"]);
  }, 120_000);

  it("rolls a broken candidate (v2 down, answering 503) back to 0 % within its first step, failing no request of v1's clients", async () => {
    let outcome: Awaited<ReturnType<typeof rollout>> | undefined;
    const { failed, served } = await loadWithKeys(40, 20, async () => {
      const ended = rollout(["start", "--wait"], FAST);
      // Once started (it reads what v2 serves first), v2 goes down.
      await within(5000, async () => (await status()).rollout?.phase === "running");
      supervisorctl("stop", "v2");
      try {
        outcome = await ended;
      } finally {
        supervisorctl("start", "v2");
      }
    });
    expect(outcome!.code, outcome!.stdout).toBe(1);
    const { rollout: ended, canaryPercent } = await status();
    expect(ended).toMatchObject({ phase: "rolled back", step: 0 });
    expect(ended.reason).toMatch(/^step 1 of 5 \(5%\): error rate 100\.0% against v1's 0\.0%/);
    expect(canaryPercent).toBe(0);
    // The canary's clients met v2 down; v1's met nothing.
    expect(failed.filter((f) => f.reply?.headers["x-variant"] !== "v2")).toEqual([]);
    // v2 answered the canary's first requests, before it went down; once rolled back, v1 all.
    expect(
      served.filter((s) => s.sentAtMs > failed.at(-1)!.sentAtMs).every((s) => s.variant === "v1"),
    ).toBe(true);
    await within(
      10_000,
      async () =>
        (await predict("hi", { from: freshClient(), headers: { "X-Experiment-Group": "debug" } }))
          .status === 200,
    );
  }, 180_000);

  it("steps a good candidate through 5, 10, 25, 50 and 100 % and promotes it: v1 serves v2's model, the share is back to 0, no request failed", async () => {
    const [v1Model, v2Model] = [loadSettings().variants.v1.model, loadSettings().variants.v2.model];
    let outcome: Awaited<ReturnType<typeof rollout>> | undefined;
    // 20 req/s: the one v2 process takes all of it at 100 %, beside a machine busy with the suite.
    const { failures, served } = await loadWithKeys(20, 60, async () => {
      outcome = await rollout(["start", "--wait"], FAST);
    });
    expect(outcome!.code, outcome!.stdout).toBe(0);
    expect(failures).toEqual([]);
    const { rollout: ended, canaryPercent, history } = await status();
    expect(ended).toMatchObject({ phase: "promoted", step: 4 });
    expect(canaryPercent).toBe(0);
    expect(
      history
        .filter((change: { at: number }) => change.at >= ended.startedAt)
        .map((change: { percent: number }) => change.percent)
        .reverse(),
    ).toEqual([5, 10, 25, 50, 100, 0]);
    // v2 answered a share of the load, and at the end v1 answers with v2's model.
    expect(served.some((s) => s.variant === "v2")).toBe(true);
    expect(served.at(-1)).toMatchObject({ variant: "v1", modelVersion: v2Model });
    expect(v1Model).not.toBe(v2Model);
  }, 300_000);
});
