/**
 * Shadow copies cannot hurt anyone: bounded in flight, abandoned at their deadline, never resent.
 * The candidate here is a stand-in that hangs or fails on demand, which the real v2 cannot; the
 * end-to-end suite hangs the real one (SIGSTOP) under full shadow.
 */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { shadowCopies, type ShadowOutcome } from "./shadow.ts";

/** A candidate that records each request and answers it with `answer` (never, when it hangs). */
function candidate(answer: (signal: AbortSignal) => Promise<Response>) {
  const seen = { requests: 0, inFlight: 0, mostInFlight: 0 };
  const fetcher = {
    async fetch(_url: string, init: RequestInit) {
      seen.requests++;
      seen.inFlight++;
      seen.mostInFlight = Math.max(seen.mostInFlight, seen.inFlight);
      try {
        return await answer(init.signal!);
      } finally {
        seen.inFlight--;
      }
    },
  };
  return { seen, bindings: { ...env, V2: fetcher as unknown as Fetcher } };
}

const hanging = (signal: AbortSignal) =>
  new Promise<Response>((_, reject) =>
    signal.addEventListener("abort", () => reject(signal.reason)),
  );

/** `copies` shadow copies at once through one shadowCopies, and the outcomes they were counted as. */
async function shadowAll(copies: number, bindings: Env, maxInFlight: number, timeoutMs: number) {
  const outcomes: ShadowOutcome[] = [];
  const shadow = shadowCopies({ maxInFlight, timeoutMs, onShadow: (o) => outcomes.push(o) });
  const app = new Hono<GatewayEnv>().post("/", async (c) => {
    c.set("requestId", "shadow-test");
    await shadow.copy(c, "I love this!", "love");
    return c.text("done");
  });
  await Promise.all(
    Array.from({ length: copies }, () => app.request("/", { method: "POST" }, bindings)),
  );
  return outcomes.sort();
}

describe("shadow copies", () => {
  it("to a hung candidate: at most SHADOW_MAX_IN_FLIGHT are sent, each abandoned at its deadline as an error, the rest skipped", async () => {
    const { seen, bindings } = candidate(hanging);
    const started = Date.now();
    const outcomes = await shadowAll(10, bindings, 2, 100);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(seen).toEqual({ requests: 2, inFlight: 0, mostInFlight: 2 });
    expect(outcomes).toEqual([...Array(2).fill("error"), ...Array(8).fill("skipped")]);
  });

  it("are sent once only: a copy whose connection fails at once is counted as an error, not resent", async () => {
    const { seen, bindings } = candidate(async () => {
      throw new Error("Network connection lost.");
    });
    expect(await shadowAll(3, bindings, 4, 100)).toEqual(["error", "error", "error"]);
    expect(seen.requests).toBe(3);
  });

  it("yield to the candidate's own clients: while one of their requests is in flight, a copy is skipped", async () => {
    const outcomes: ShadowOutcome[] = [];
    const { seen, bindings } = candidate(async () =>
      Response.json({}, { headers: { "X-Prediction-Label": "love" } }),
    );
    const shadow = shadowCopies({
      maxInFlight: 8,
      timeoutMs: 100,
      onShadow: (o) => outcomes.push(o),
    });
    const app = new Hono<GatewayEnv>().post("/", async (c) => {
      c.set("requestId", "shadow-test");
      await shadow.copy(c, "I love this!", "love");
      return c.text("done");
    });
    let answer: () => void = () => {};
    const client = shadow.serving(() => new Promise<void>((resolve) => (answer = resolve)));
    await app.request("/", { method: "POST" }, bindings);
    answer();
    await client;
    await app.request("/", { method: "POST" }, bindings);
    expect(outcomes).toEqual(["skipped", "agree"]);
    expect(seen.requests).toBe(1);
  });

  it("compare the candidate's label with the stable one's", async () => {
    const answering = (label: string) =>
      candidate(async () => Response.json({}, { headers: { "X-Prediction-Label": label } }));
    expect(await shadowAll(1, answering("love").bindings, 4, 100)).toEqual(["agree"]);
    expect(await shadowAll(1, answering("worry").bindings, 4, 100)).toEqual(["disagree"]);
  });
});
