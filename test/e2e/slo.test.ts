/**
 * The SLOs' events, as the client meets us (nginx's answers, through mtail), and a fast burn of
 * the availability budget reaching the receiver as a page, with the shipped rules and routes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { supervisorctl } from "../../scripts/stack/supervisor.ts";
import { BURN_ALERTS, burnRate, errorBudget, METRICS } from "../../scripts/slo/objectives.ts";
import { SLO_ALERTS } from "../../scripts/slo/slo-rules.ts";
import {
  basicAuth,
  call,
  freshClient,
  predict,
  prometheusQuery,
  prometheusValue,
  settings,
  within,
} from "./client.ts";
import {
  evaluationSeconds,
  groupIntervalSeconds,
  groupWaitSeconds,
  notified,
  SLACK_SECONDS,
  scrapeSeconds,
  seconds,
} from "./alert-log.ts";

/** mtail's /predict counter, summed by status, read from mtail itself (no scrape to wait for). */
async function frontCounts(): Promise<Map<string, number>> {
  const text = (await call("/metrics", { httpPort: settings.mtailPort })).body;
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = line.match(
      new RegExp(`^${METRICS.requests}\\{[^}]*status="(\\d{3})"[^}]*\\} (\\d+)`),
    );
    if (match) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + Number(match[2]));
  }
  return counts;
}
const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
/** nginx writes its access log at least every second (flush=1s), and mtail reads it at once. */
const settled = () => sleep(2000);

async function withGatewayStopped<T>(during: () => Promise<T>): Promise<T> {
  supervisorctl("stop", "gateway");
  try {
    return await during();
  } finally {
    supervisorctl("start", "gateway");
    // Its own port, not /predict: a probe there while it starts would be one more 503.
    const back = await within(
      30_000,
      async () =>
        (await call("/health", { httpPort: settings.gatewayOpsPort }).catch(() => undefined))
          ?.status === 200,
    );
    expect(back, "the gateway answers again").toBeDefined();
  }
}

describe("the SLOs' events", () => {
  it("are every /predict nginx answers, once each, and never a debug request", async () => {
    const before = await frontCounts();
    const client = freshClient();
    for (const sentence of ["one", "two", "three"])
      expect((await predict(sentence, { from: client })).status).toBe(200);
    for (const sentence of ["four", "five"])
      expect(
        (await predict(sentence, { from: client, headers: { "X-Experiment-Group": "debug" } }))
          .status,
      ).toBe(200);
    await settled();
    const after = await frontCounts();
    expect(total(after) - total(before)).toBe(3);
    expect((after.get("200") ?? 0) - (before.get("200") ?? 0)).toBe(3);
  });

  it("include nginx's own 503s while the gateway is down", async () => {
    const before = await frontCounts();
    const statuses = await withGatewayStopped(async () => {
      const from = freshClient();
      return [(await predict("down", { from })).status, (await predict("down", { from })).status];
    });
    expect(statuses).toEqual([503, 503]);
    await settled();
    const after = await frontCounts();
    // The gateway's own "back" probes add 200s; the 503s are these two.
    expect((after.get("503") ?? 0) - (before.get("503") ?? 0)).toBe(2);
  }, 60_000);
});

describe("a fast burn of the availability budget", () => {
  const fastest = BURN_ALERTS[0];

  it("reaches the receiver as a page within the rule's for, two scrapes and evaluations and group_wait (group_interval when its group is open)", async () => {
    // More errors than the page's share of the last hour's events (its burn rate times the
    // budget: 14.4 x 0.1% = 1.44%), whatever traffic the suite has sent: twice that, and 100 more.
    const share =
      burnRate(settings.slo.windowDays, fastest) * errorBudget(settings.slo.availability);
    // An earlier burst's page (another run's: Prometheus keeps alerts across restarts) may still
    // be firing, and a page already sent is not sent again: wait until it has resolved. Its 6 h
    // page may fire on for half an hour, in the same group: a new alert joins an open group at
    // its next group_interval, not after group_wait.
    const firing = `ALERTS{alertname="${SLO_ALERTS.availability}",long_window="${fastest.longWindow}"}`;
    const quiet = await within(
      (seconds(fastest.shortWindow) + groupIntervalSeconds + 60) * 1000,
      async () => (await prometheusQuery(firing)).length === 0,
    );
    expect(quiet, "no earlier page still firing").toBeDefined();
    await sleep((groupIntervalSeconds + SLACK_SECONDS) * 1000);
    const groups = await call("/api/v2/alerts/groups", { httpPort: settings.alertmanagerPort });
    const groupOpen = groups
      .json<{ labels: Record<string, string>; alerts: unknown[] }[]>()
      .some(
        (g) =>
          g.labels.alertname === SLO_ALERTS.availability &&
          g.labels.severity === "page" &&
          g.alerts.length > 0,
      );
    const lastHour = await prometheusValue(`sum(increase(${METRICS.requests}[1h]))`);
    const errors = Math.ceil(lastHour * share * 2) + 100;
    await withGatewayStopped(async () => {
      // A counter's first sample counts no increase: a few 503s first, seen by two scrapes, so
      // that the series exists before the burst.
      await Promise.all(Array.from({ length: 3 }, () => predict("burn", { from: freshClient() })));
      await sleep(2 * scrapeSeconds * 1000 + 1000);
      // nginx lets an address 4 times the gateway's burst at once (NGINX_API_LIMIT_FACTOR):
      // 10 requests from each, none refused with a 429.
      const addresses = Array.from({ length: Math.ceil(errors / 10) }, freshClient);
      const answers = await Promise.all(
        addresses.flatMap((from) =>
          Array.from({ length: 10 }, () =>
            call("/predict", {
              method: "POST",
              from,
              headers: { "Content-Type": "application/json", Authorization: basicAuth() },
              body: JSON.stringify({ sentence: "burn" }),
            }).then((reply) => reply.status),
          ),
        ),
      );
      expect(answers.filter((status) => status !== 503)).toEqual([]);
    });
    const burst = Date.now();
    const bound =
      seconds(fastest.for) +
      2 * scrapeSeconds +
      2 * evaluationSeconds +
      (groupOpen ? groupIntervalSeconds : groupWaitSeconds) +
      SLACK_SECONDS;
    const paged = await notified(
      burst,
      bound,
      (n) =>
        n.receiver === "page" &&
        n.status === "firing" &&
        n.alerts.some(
          (a) =>
            a.labels.alertname === SLO_ALERTS.availability &&
            a.labels.severity === "page" &&
            a.labels.long_window === fastest.longWindow,
        ),
    );
    expect(paged, `paged within ${bound} s of the burst`).toBeDefined();
  }, 800_000);
});
