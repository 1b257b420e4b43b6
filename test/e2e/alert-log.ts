/**
 * The local receiver's log of Alertmanager's notifications (.state/logs/alerts.jsonl), and the
 * shipped timings that bound how soon one arrives, read from the running stack's configs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { ALERTS_LOG, rendered } from "../../scripts/stack/render.ts";
import { paths } from "../../scripts/stack/settings.ts";

export const seconds = (duration: string) => {
  const match = duration.match(/^(\d+)(s|m|h)$/);
  if (!match) throw new Error(`not a duration this test reads: ${duration}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as "s" | "m" | "h"];
};
const prometheusConfig = parse(readFileSync(rendered.prometheus, "utf8"));
export const scrapeSeconds = seconds(prometheusConfig.global.scrape_interval);
export const evaluationSeconds = seconds(prometheusConfig.global.evaluation_interval);
const route = parse(readFileSync(rendered.alertmanager, "utf8")).route;
const pageRoute = route.routes.find((r: any) => r.matchers.includes('severity="page"'));
export const groupWaitSeconds = seconds(pageRoute.group_wait ?? route.group_wait);
export const groupIntervalSeconds = seconds(pageRoute.group_interval ?? route.group_interval);
/** What is not a shipped setting: Prometheus's and Alertmanager's own sending, and this test's reading. */
export const SLACK_SECONDS = 5;

export interface Notification {
  received: string;
  receiver: string;
  status: "firing" | "resolved";
  alerts: { status: string; labels: Record<string, string> }[];
}

/** The receiver's notifications that arrived at or after `since`. */
export function notificationsSince(since: number): Notification[] {
  const log = join(paths.logs, ALERTS_LOG);
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Notification)
    .filter((n) => Date.parse(n.received) >= since);
}

/** Seconds after `since` until a notification matches, or undefined by `withinSeconds`. */
export async function notified(
  since: number,
  withinSeconds: number,
  matches: (n: Notification) => boolean,
): Promise<number | undefined> {
  while (Date.now() - since <= withinSeconds * 1000) {
    const found = notificationsSince(since).find(matches);
    if (found) return (Date.parse(found.received) - since) / 1000;
    await sleep(500);
  }
  return undefined;
}
