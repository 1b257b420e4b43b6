/**
 * Rolling out v2's model on the running stack: the sticky canary and shadow traffic. Each case
 * restarts the gateway with its settings (rendered as start would) and the last restores them.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { dataPaths, readDataset, selectSplit } from "../../model/training/dataset.ts";
import { basicAuth, call, freshClient, predict, restartGatewayWith, settings } from "./client.ts";

/** Each key's variant for one request, from a fresh address each (the rate limit is per address). */
async function variantsOf(
  keys: string[],
): Promise<Map<string, { variant: string; body: string; status: number }>> {
  const answers = new Map<string, { variant: string; body: string; status: number }>();
  const lanes = 16;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < keys.length; i += lanes) {
        const reply = await predict("I love this!", {
          from: freshClient(),
          headers: { "X-Assignment-Key": keys[i]! },
        });
        answers.set(keys[i]!, {
          variant: String(reply.headers["x-variant"]),
          body: reply.body,
          status: reply.status,
        });
      }
    }),
  );
  return answers;
}

const KEYS = Array.from({ length: 2000 }, (_, i) => `rollout-${process.pid}-${i}`);
const share = (answers: Map<string, { variant: string }>) =>
  [...answers.values()].filter((a) => a.variant === "v2").length / answers.size;

/** The gateway's own count of feedback (read from its ops port), by variant and correctness. */
async function feedbackCounted(): Promise<Record<string, number>> {
  const text = (await call("/metrics", { httpPort: settings.gatewayOpsPort })).body;
  const counts: Record<string, number> = {};
  for (const [, variant, correct, n] of text.matchAll(
    /^fortress_feedback_total\{variant="(v[12])",route="[a-z]+",model="[0-9a-f]{12}",correct="(true|false)",consumer="[^"]+"\} (\d+)$/gm,
  )) {
    counts[`${variant} ${correct}`] = (counts[`${variant} ${correct}`] ?? 0) + Number(n);
  }
  return counts;
}

describe("rolling out v2", () => {
  afterAll(async () => {
    await restartGatewayWith({});
  }, 30_000);

  it("sends 10 ± 2 % of 2,000 keys to v2 at CANARY_PERCENT=10, each key to the same variant every time, with v1's exact body", async () => {
    await restartGatewayWith({ CANARY_PERCENT: "10" });
    const first = await variantsOf(KEYS);
    expect([...first.values()].every((a) => a.status === 200)).toBe(true);
    expect(Math.abs(share(first) - 0.1)).toBeLessThanOrEqual(0.02);
    for (const answer of first.values()) expect(answer.body).toBe('{"prediction value":"love"}');

    const again = await variantsOf(KEYS.slice(0, 500));
    for (const [key, answer] of again) expect(answer.variant).toBe(first.get(key)!.variant);

    await restartGatewayWith({ CANARY_PERCENT: "20" });
    const raised = await variantsOf(KEYS);
    expect(Math.abs(share(raised) - 0.2)).toBeLessThanOrEqual(0.03);
    const movedBack = KEYS.filter(
      (key) => first.get(key)!.variant === "v2" && raised.get(key)!.variant !== "v2",
    );
    expect(movedBack).toEqual([]);
  }, 240_000);

  it("still sends the debug group to v2 with its debug payload during a canary", async () => {
    const reply = await predict("I love this!", {
      headers: { "X-Experiment-Group": "debug", "X-Assignment-Key": KEYS[0]! },
    });
    expect(reply.headers["x-variant"]).toBe("v2");
    expect(reply.json()).toHaveProperty("prediction_proba_dict");
  });

  it("counts feedback on labelled test tweets per variant, right and wrong, and refuses a forged token", async () => {
    const { dataPath, testIds } = dataPaths();
    const tweets = selectSplit(readDataset(dataPath).examples, testIds).slice(0, 20);
    const before = await feedbackCounted();
    const expected: Record<string, number> = {};
    for (const headers of [{}, { "X-Experiment-Group": "debug" }] as Record<string, string>[]) {
      for (const tweet of tweets) {
        const prediction = await predict(tweet.text, { headers });
        const variant = String(prediction.headers["x-variant"]);
        const token = String(prediction.headers["x-prediction-token"]);
        const verdict = await call("/feedback", {
          method: "POST",
          from: freshClient(),
          headers: { "Content-Type": "application/json", Authorization: basicAuth() },
          body: JSON.stringify({ token, label: tweet.label }),
        });
        expect(verdict.status).toBe(202);
        const key = `${variant} ${prediction.json()["prediction value"] === tweet.label}`;
        expected[key] = (expected[key] ?? 0) + 1;
      }
    }
    const after = await feedbackCounted();
    const counted = Object.fromEntries(
      Object.keys({ ...after, ...expected })
        .map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)])
        .filter(([, n]) => n !== 0),
    );
    expect(counted).toEqual(expected);

    const [header, claims] = String(
      (await predict("I love this!")).headers["x-prediction-token"],
    ).split(".");
    const forged = await call("/feedback", {
      method: "POST",
      from: freshClient(),
      headers: { "Content-Type": "application/json", Authorization: basicAuth() },
      body: JSON.stringify({ token: `${header}.${claims}.c2lnbmF0dXJl`, label: "love" }),
    });
    expect(forged.status).toBe(422);
    expect(forged.json().detail).toBe("the token was not issued by this service");
  }, 60_000);

  it("at SHADOW_PERCENT=100 answers every client from v1 and counts each comparison with v2, or its copy as skipped past SHADOW_MAX_IN_FLIGHT", async () => {
    await restartGatewayWith({ SHADOW_PERCENT: "100" });
    const replies = await Promise.all(Array.from({ length: 40 }, () => predict("I love this!")));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.headers["x-variant"]).toBe("v1");
      expect(reply.body).toBe('{"prediction value":"love"}');
    }
    // The gateway restarted for this case, so its counters start from 0; the comparisons finish
    // after the answers, so they are waited for.
    const shadowed = async (outcome: string) => {
      const text = (await call("/metrics", { httpPort: settings.gatewayOpsPort })).body;
      return Number(
        new RegExp(`^fortress_shadow_predictions_total\\{outcome="${outcome}"\\} (\\d+)`, "m").exec(
          text,
        )?.[1] ?? NaN,
      );
    };
    const compared = async () => (await shadowed("agree")) + (await shadowed("skipped"));
    for (let i = 0; i < 50 && (await compared()) < 40; i++) await sleep(100);
    expect({
      copies: await compared(),
      disagree: await shadowed("disagree"),
      error: await shadowed("error"),
    }).toEqual({ copies: 40, disagree: 0, error: 0 });
    expect(await shadowed("agree")).toBeGreaterThanOrEqual(
      Number(settings.gatewayVars.SHADOW_MAX_IN_FLIGHT),
    );
  }, 60_000);
});
