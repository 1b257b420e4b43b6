import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { alertReceiver, HEARTBEAT_RECEIVER, HEARTBEAT_STALE_SECONDS } from "./alert-receiver.ts";

const notification = (receiver: string, status = "firing") => ({
  version: "4",
  receiver,
  status,
  groupKey: "{}:{}",
  alerts: [
    {
      status,
      labels: {
        alertname: receiver === HEARTBEAT_RECEIVER ? "DeadMansSwitch" : "ReplicaDown",
        severity: "page",
      },
    },
  ],
});

let close: (() => void) | undefined;
afterEach(() => close?.());

/** A receiver on a free loopback port, its lines kept, on a clock the test moves. */
async function started() {
  const lines: string[] = [];
  const clock = { now: Date.parse("2026-12-01T12:00:00Z") };
  const server = alertReceiver(
    (line) => lines.push(line),
    () => clock.now,
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => server.close();
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (body: string) => fetch(`${base}/alerts`, { method: "POST", body });
  return { lines, clock, base, post };
}

describe("the alert receiver", () => {
  it("writes each notification as one JSON line with the time it arrived", async () => {
    const { lines, post } = await started();
    expect((await post(JSON.stringify(notification("page")))).status).toBe(200);
    expect((await post(JSON.stringify(notification("page", "resolved")))).status).toBe(200);
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(
      true,
    );
    expect(JSON.parse(lines[0]!)).toMatchObject({
      received: "2026-12-01T12:00:00.000Z",
      receiver: "page",
      status: "firing",
      alerts: [{ labels: { alertname: "ReplicaDown" } }],
    });
    expect(JSON.parse(lines[1]!).status).toBe("resolved");
  });

  it("refuses what is not an Alertmanager notification with a problem, and writes nothing", async () => {
    const { lines, post, base } = await started();
    const notJson = await post("{");
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get("content-type")).toBe("application/problem+json");
    expect((await post(JSON.stringify({ receiver: "page" }))).status).toBe(422);
    // Only the receivers Alertmanager's config names: no counter or label of a client's choosing.
    expect((await post(JSON.stringify(notification('x"\n}')))).status).toBe(422);
    expect((await post("x".repeat((1 << 20) + 1))).status).toBe(413);
    expect((await fetch(`${base}/alerts`)).status).toBe(405);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    expect(lines).toEqual([]);
  });

  it("is healthy while the dead man's switch arrives, and says 503 once it has been silent too long", async () => {
    const { clock, post, base } = await started();
    const health = async () => {
      const reply = await fetch(`${base}/health`);
      return { status: reply.status, body: await reply.json() };
    };
    // Just started: no heartbeat yet, but none is late.
    expect((await health()).status).toBe(200);
    clock.now += HEARTBEAT_STALE_SECONDS * 1000;
    expect(await health()).toMatchObject({ status: 503, body: { status: "no heartbeat" } });
    await post(JSON.stringify(notification(HEARTBEAT_RECEIVER)));
    expect(await health()).toMatchObject({ status: 200, body: { secondsSinceHeartbeat: 0 } });
    // Another receiver's notification is not a heartbeat, nor another alert sent to heartbeat's.
    clock.now += (HEARTBEAT_STALE_SECONDS - 1) * 1000;
    await post(JSON.stringify(notification("page")));
    await post(
      JSON.stringify({
        ...notification(HEARTBEAT_RECEIVER),
        alerts: [{ labels: { alertname: "X" } }],
      }),
    );
    expect((await health()).status).toBe(200);
    clock.now += 1000;
    expect((await health()).status).toBe(503);
  });

  it("counts notifications by receiver and status on /metrics", async () => {
    const { post, base } = await started();
    await post(JSON.stringify(notification("page")));
    await post(JSON.stringify(notification("page")));
    await post(JSON.stringify(notification("ticket", "resolved")));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(
      'fortress_alert_notifications_total{receiver="page",status="firing"} 2',
    );
    expect(metrics).toContain(
      'fortress_alert_notifications_total{receiver="ticket",status="resolved"} 1',
    );
  });
});
