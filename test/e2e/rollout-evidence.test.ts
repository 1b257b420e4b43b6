/**
 * The evidence a rollout decides on cannot be bent by one client, on the running stack: a replayed
 * token counts once, a token is its consumer's, debug traffic is not canary traffic, a hung v2
 * under full shadow costs v1's clients nothing, and nginx never sends feedback twice. The clients
 * keep their connections alive, as every HTTP client with a pool does.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { rendered } from "../../scripts/stack/render.ts";
import { workerProcesses } from "../../scripts/stack/settings.ts";
import { pidOf } from "../../scripts/stack/supervisor.ts";
import {
  basicAuth,
  bearer,
  call,
  consumers,
  freshClient,
  freshConsumer,
  keepAliveAgent,
  percentile,
  predict,
  restartGatewayWith,
  settings,
  within,
} from "./client.ts";

/** The sum of a metric's series whose labels match `labels` (a regex over the label text), on an ops port. */
async function metricSum(opsPort: number, metric: string, labels = ""): Promise<number> {
  const text = (await call("/metrics", { httpPort: opsPort })).body;
  return [...text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\d+(?:\\.\\d+)?)$`, "gm"))]
    .filter(([, found]) => new RegExp(labels).test(found!))
    .reduce((sum, [, , n]) => sum + Number(n), 0);
}
const gatewayMetric = (metric: string, labels = "") =>
  metricSum(settings.gatewayOpsPort, metric, labels);
const v2Port = () => workerProcesses(settings).find((p) => p.name === "v2")!.opsPort;

const feedbackOn = (
  token: string,
  label: string,
  auth: string,
  from = freshClient(),
  agent = keepAliveAgent(1),
) =>
  call("/feedback", {
    method: "POST",
    from,
    agent,
    headers: { "Content-Type": "application/json", Authorization: auth },
    body: JSON.stringify({ token, label }),
  });

describe("rollout evidence", () => {
  afterAll(async () => {
    await restartGatewayWith({});
  }, 30_000);

  it("counts one token replayed a hundred times, ten at a time on kept-alive connections, exactly once; with another label it is a 409", async () => {
    const token = String((await predict("I love this!")).headers["x-prediction-token"]);
    const before = await gatewayMetric("fortress_feedback_total");
    // 20 clients of 5 posts each, each on its pool of kept-alive connections (the per-address
    // limit allows 5), ten clients at once.
    const statuses: number[] = [];
    const clients = Array.from({ length: 20 }, () => ({
      from: freshClient(),
      agent: keepAliveAgent(2),
    }));
    for (let lane = 0; lane < 2; lane++) {
      await Promise.all(
        clients.slice(lane * 10, lane * 10 + 10).map(async ({ from, agent }) => {
          for (let i = 0; i < 5; i++)
            statuses.push((await feedbackOn(token, "love", basicAuth(), from, agent)).status);
          agent.destroy();
        }),
      );
    }
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    expect(statuses).toHaveLength(100);
    const conflict = await feedbackOn(token, "hate", basicAuth());
    expect(conflict.status).toBe(409);
    expect(conflict.headers["content-type"]).toBe("application/problem+json");
    expect((await gatewayMetric("fortress_feedback_total")) - before).toBe(1);
  }, 60_000);

  it("refuses a token given to another consumer (403), and takes it from a key with the feedback scope", async () => {
    const token = String((await predict("I love this!")).headers["x-prediction-token"]);
    const other = await consumers(["add", freshConsumer("other")]);
    const labellers = await consumers(["add", freshConsumer("labellers"), "--scope", "feedback"]);
    const before = await gatewayMetric("fortress_feedback_total");
    // A new consumer is known to every isolate within 4 s.
    const refused = await within(5000, async () => {
      return (await feedbackOn(token, "love", bearer(other.key))).status === 403;
    });
    expect(refused).toBeDefined();
    expect(await gatewayMetric("fortress_feedback_total")).toBe(before);
    expect((await feedbackOn(token, "love", bearer(labellers.key))).status).toBe(202);
    expect((await gatewayMetric("fortress_feedback_total")) - before).toBe(1);
  }, 30_000);

  it("keeps a burst of debug requests out of every canary figure: they count as route debug", async () => {
    const canary = async () => ({
      requests: await gatewayMetric("fortress_requests_total", 'route="canary"'),
      predictions: await metricSum(v2Port(), "fortress_predictions_total", 'route="canary"'),
      latency: await gatewayMetric("fortress_request_duration_seconds_count", 'route="canary"'),
    });
    const debugBefore = await gatewayMetric(
      "fortress_requests_total",
      'variant="v2",route="debug"',
    );
    const before = await canary();
    const agent = keepAliveAgent(4);
    const from = freshClient();
    const odd = ["!!!", "a".repeat(4000), "¿¿¿ qué ???", "I love this!", "😀😀😀"];
    // One kept-alive client sends 4 of them (the per-address limit allows 5), fresh addresses the rest.
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        predict(odd[i % odd.length], {
          from: i % 10 === 0 ? from : freshClient(),
          agent: i % 10 === 0 ? agent : undefined,
          headers: { "X-Experiment-Group": "debug" },
        }),
      ),
    );
    agent.destroy();
    expect(replies.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([]);
    expect(await canary()).toEqual(before);
    expect(
      (await gatewayMetric("fortress_requests_total", 'variant="v2",route="debug"')) - debugBefore,
    ).toBe(40);
  }, 60_000);

  it("leaves v1's clients untouched with v2 hung under SHADOW_PERCENT=100: copies to it stay within the cap and the rest are skipped", async () => {
    const [maxInFlight, timeoutMs] = [
      Number(settings.gatewayVars.SHADOW_MAX_IN_FLIGHT),
      Number(settings.gatewayVars.SHADOW_TIMEOUT_MS),
    ];
    await restartGatewayWith({ SHADOW_PERCENT: "100" });
    const timed = async (n: number) => {
      const ms: number[] = [];
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: n }, async () => {
          const started = Date.now();
          statuses.push((await predict("I love this!")).status);
          ms.push(Date.now() - started);
        }),
      );
      return { ms, statuses };
    };
    const baseline = await timed(40);
    const outcome = (o: string) =>
      gatewayMetric("fortress_shadow_predictions_total", `outcome="${o}"`);
    const sentBefore =
      (await outcome("agree")) + (await outcome("disagree")) + (await outcome("error"));
    const skippedBefore = await outcome("skipped");
    const v2 = pidOf("v2");
    process.kill(v2, "SIGSTOP"); // alive, connected, never answering
    const started = Date.now();
    let hung: Awaited<ReturnType<typeof timed>>;
    let sentWhileHung: number;
    try {
      hung = await timed(80);
      // Whatever the copies did is counted by their deadline.
      await new Promise((resolve) => setTimeout(resolve, timeoutMs + 200));
      sentWhileHung =
        (await outcome("agree")) +
        (await outcome("disagree")) +
        (await outcome("error")) -
        sentBefore;
    } finally {
      if (pidOf("v2") === v2) process.kill(v2, "SIGCONT");
    }
    const hungForMs = Date.now() - started;
    expect(hung.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(percentile(hung.ms, 90)).toBeLessThanOrEqual(
      Math.max(2 * percentile(baseline.ms, 90), 100),
    );
    // At most the cap at once, each held at most its deadline.
    expect(sentWhileHung).toBeLessThanOrEqual(maxInFlight * (Math.ceil(hungForMs / timeoutMs) + 1));
    expect((await outcome("skipped")) - skippedBefore).toBeGreaterThan(0);
  }, 90_000);

  it("has nginx send /feedback on a connection of its own and never again once sent", () => {
    const conf = readFileSync(rendered.nginx, "utf8");
    const location = /location = \/feedback \{([^}]*)\}/.exec(conf)?.[1] ?? "";
    expect(location).toContain("proxy_pass http://gateway_once;");
    expect(location).toMatch(/proxy_next_upstream error;/);
    expect(location).not.toContain("non_idempotent");
    const upstream = /upstream gateway_once \{([^}]*)\}/.exec(conf)?.[1] ?? "";
    expect(upstream).not.toContain("keepalive");
  });
});
