/**
 * The local stack's alert receiver: Alertmanager's webhook (deployments/alertmanager), so that an
 * alert reaches somewhere with no outside service. Each notification is written to standard output
 * as one JSON line (supervisord writes it to .state/logs/alerts.jsonl, capped and rotated), with
 * the time it arrived.
 *
 * It also watches the dead man's switch: Alertmanager's heartbeat receiver is sent the
 * always-firing DeadMansSwitch alert every repeat interval, and its silence means that the pipeline
 * (Prometheus's rules, its link to Alertmanager, Alertmanager's routing) is broken. GET /health
 * says so: a 503 once no heartbeat has come for HEARTBEAT_STALE_SECONDS (make status shows it).
 *
 * Written here rather than taken from a package: Debian has no webhook logger, and this is one
 * route of Node's own HTTP server. Bundled into one file (render.ts), as the watchdog is.
 *
 *   tsx scripts/stack/alert-receiver.ts PORT [ADDRESS]
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** Alertmanager's receiver (deployments/alertmanager) of the DeadMansSwitch alert. */
export const HEARTBEAT_RECEIVER = "heartbeat";
/**
 * The receivers of deployments/alertmanager that notify here: anything else is refused, so that
 * what a local user POSTs can neither grow the counts without end nor put text into /metrics.
 */
export const RECEIVERS = ["page", "ticket", HEARTBEAT_RECEIVER];
const DEAD_MANS_SWITCH = "DeadMansSwitch";
/** Three of its repeat intervals (1 m) without a heartbeat: one late notification is not a broken pipeline. */
export const HEARTBEAT_STALE_SECONDS = 180;
/** Alertmanager's notifications are a few KiB; anything far larger is not one. */
const MAX_BODY_BYTES = 1 << 20;

/** What the receiver keeps of an Alertmanager webhook notification (version 4). */
interface Notification {
  receiver: string;
  status: "firing" | "resolved";
  alerts: { labels?: Record<string, string> }[];
}

function isNotification(value: unknown): value is Notification {
  const n = value as Notification;
  return (
    typeof n === "object" &&
    n !== null &&
    RECEIVERS.includes(n.receiver) &&
    (n.status === "firing" || n.status === "resolved") &&
    Array.isArray(n.alerts)
  );
}

export function alertReceiver(
  write: (line: string) => void,
  now: () => number = Date.now,
): ReturnType<typeof createServer> {
  const startedAt = now();
  let lastHeartbeat: number | undefined;
  const counts = new Map<string, number>();

  const problem = (res: ServerResponse, status: number, title: string, detail: string) => {
    res.writeHead(status, { "Content-Type": "application/problem+json" });
    res.end(JSON.stringify({ type: "about:blank", title, status, detail }));
  };

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES)
        return problem(res, 413, "Payload Too Large", `at most ${MAX_BODY_BYTES} bytes`);
      chunks.push(chunk);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return problem(res, 400, "Bad Request", "the body is not JSON");
    }
    if (!isNotification(body))
      return problem(
        res,
        422,
        "Unprocessable Content",
        `not an Alertmanager notification to ${RECEIVERS.join(", ")}`,
      );
    const received = now();
    if (
      body.receiver === HEARTBEAT_RECEIVER &&
      body.alerts.some((alert) => alert.labels?.alertname === DEAD_MANS_SWITCH)
    )
      lastHeartbeat = received;
    const key = `${body.receiver}\u0000${body.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    write(`${JSON.stringify({ received: new Date(received).toISOString(), ...body })}\n`);
    res.writeHead(200).end();
  }

  function health(res: ServerResponse): void {
    const since = lastHeartbeat ?? startedAt;
    const ageSeconds = (now() - since) / 1000;
    const fresh = ageSeconds < HEARTBEAT_STALE_SECONDS;
    res.writeHead(fresh ? 200 : 503, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        status: fresh ? "ok" : "no heartbeat",
        lastHeartbeat: lastHeartbeat && new Date(lastHeartbeat).toISOString(),
        secondsSinceHeartbeat: lastHeartbeat === undefined ? null : Math.round(ageSeconds),
      }),
    );
  }

  function metrics(res: ServerResponse): void {
    const lines = [
      "# HELP fortress_alert_notifications_total Alertmanager's notifications received, by receiver and status.",
      "# TYPE fortress_alert_notifications_total counter",
      ...[...counts].map(([key, count]) => {
        const [receiver, status] = key.split("\u0000");
        return `fortress_alert_notifications_total{receiver="${receiver}",status="${status}"} ${count}`;
      }),
    ];
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(`${lines.join("\n")}\n`);
  }

  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://receiver").pathname;
    if (path === "/alerts" && req.method === "POST")
      return void receive(req, res).catch((error) =>
        problem(res, 500, "Internal Server Error", String(error)),
      );
    if (path === "/health" && req.method === "GET") return health(res);
    if (path === "/metrics" && req.method === "GET") return metrics(res);
    if (["/alerts", "/health", "/metrics"].includes(path))
      return problem(res, 405, "Method Not Allowed", `${req.method} ${path}`);
    problem(res, 404, "Not Found", `${path}: POST /alerts, GET /health or GET /metrics`);
  });
}

if (process.argv[1]?.match(/alert-receiver\.(mjs|ts)$/)) {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 1) {
    console.error("usage: alert-receiver PORT [ADDRESS]");
    process.exit(2);
  }
  // Loopback natively; compose's container listens on its network ("0.0.0.0").
  alertReceiver((line) => process.stdout.write(line)).listen(port, process.argv[3] ?? "127.0.0.1");
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
}
