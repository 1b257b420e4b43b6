/** An isolate's view of the canary's share, on a clock of the test's own. */
import { describe, expect, it } from "vitest";
import { canaryShare, SHARE_MAX_AGE_MS, SHARE_REFRESH_MS } from "./canary-share.ts";

function shareOver(stored: { percent: number | null; fails?: boolean }) {
  let clock = 1_000_000;
  let reads = 0;
  const share = canaryShare({
    read: async () => {
      reads++;
      if (stored.fails) throw new Error("unreachable");
      return stored.percent;
    },
    configured: 10,
    deadlineMs: 100,
    now: () => clock,
  });
  return {
    share,
    advance: (ms: number) => (clock += ms),
    reads: () => reads,
  };
}

describe("the canary's share on an isolate", () => {
  it("is CANARY_PERCENT until one is set at run time, then the one set", async () => {
    const stored = { percent: null as number | null };
    const { share, advance } = shareOver(stored);
    expect(await share.percent()).toBe(10);
    stored.percent = 25;
    advance(SHARE_MAX_AGE_MS);
    expect(await share.percent()).toBe(25);
  });

  it("answers from memory while fresh, reads in the background past SHARE_REFRESH_MS, and before answering past SHARE_MAX_AGE_MS", async () => {
    const stored = { percent: 5 as number | null };
    const { share, advance, reads } = shareOver(stored);
    await share.percent();
    stored.percent = 50;
    advance(SHARE_REFRESH_MS - 1);
    expect([await share.percent(), reads()]).toEqual([5, 1]);
    advance(1);
    const background: Promise<unknown>[] = [];
    expect(await share.percent((p) => background.push(p))).toBe(5);
    await Promise.all(background);
    expect([await share.percent(), reads()]).toEqual([50, 2]);
    stored.percent = 100;
    advance(SHARE_MAX_AGE_MS);
    expect(await share.percent(() => {})).toBe(100);
  });

  it("keeps the share last read when the state cannot be read, and tries again", async () => {
    const stored = { percent: 30 as number | null, fails: false };
    const { share, advance, reads } = shareOver(stored);
    expect(await share.percent()).toBe(30);
    stored.fails = true;
    advance(SHARE_MAX_AGE_MS);
    expect(await share.percent()).toBe(30);
    stored.fails = false;
    stored.percent = 0;
    advance(1);
    // Past the failed read, the next request reads again (in the background here: at once).
    expect(await share.percent()).toBe(0);
    expect(reads()).toBe(3);
  });
});
