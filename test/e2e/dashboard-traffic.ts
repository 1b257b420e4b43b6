/**
 * Traffic of every kind a dashboard panel counts, for the tests that look at the dashboard:
 * answered predictions (stable and debug), feedback, a wrong password (401), a consumer with a
 * daily quota, a burst from one client (its 429s), then two scrapes so that rate() has two samples.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  basicAuth,
  call,
  consumers,
  freshClient,
  freshConsumer,
  predict,
  within,
} from "./client.ts";

/** Prometheus scrapes every 5 s; two scrapes after the traffic, and a second to spare. */
const TWO_SCRAPES_MS = 11_000;

export async function sendTrafficOfEveryKind(): Promise<void> {
  const client = freshClient();
  const answered = await predict("I love this!");
  await predict("I love this!", { headers: { "X-Experiment-Group": "debug" } });
  await call("/feedback", {
    method: "POST",
    from: freshClient(),
    headers: { "Content-Type": "application/json", Authorization: basicAuth() },
    body: JSON.stringify({ token: answered.headers["x-prediction-token"], label: "love" }),
  });
  await predict("hi", { auth: basicAuth(undefined, "wrong") });
  // A consumer with a daily quota of its own (the end-to-end stack's default has none).
  const { key } = await consumers(["add", freshConsumer("dashboard"), "--daily", "100"]);
  const served = await within(5000, async () => {
    const reply = await predict("quota", { auth: `Bearer ${key}` });
    return reply.status === 200;
  });
  if (served === undefined) throw new Error("the new consumer was not served within 5 s");
  await Promise.all(Array.from({ length: 12 }, () => predict("hello", { from: client })));
  await sleep(TWO_SCRAPES_MS);
}
