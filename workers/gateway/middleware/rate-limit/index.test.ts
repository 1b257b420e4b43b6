/** The rate limit on a tiny app: the middleware alone, on the in-memory store and a clock the test holds still. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { afterEach, describe, expect, it, vi } from "vitest";
import { memoryStore } from "../../rate-limiter/limiter-store.ts";
import { rateLimit } from "./index.ts";

const POLICY = { ratePerSecond: 1, burst: 5 };

function tinyApp() {
  const now = 1_000_000;
  vi.spyOn(Date, "now").mockReturnValue(now);
  let refused = 0;
  const app = new Hono()
    .use(
      rateLimit({
        store: memoryStore(POLICY),
        policy: POLICY,
        keyOf: (c) => c.req.header("X-Real-IP") ?? "unknown",
        limiterDeadlineMs: 500,
        onLimiterError: "fail-closed",
        onRefused: () => refused++,
      }),
    )
    .get("/", (c) => c.text("served"))
    .onError((error) =>
      error instanceof HTTPException
        ? error.getResponse()
        : new Response("unexpected", { status: 500 }),
    );
  const send = (ip: string, headers: Record<string, string> = {}) =>
    app.request("/", { headers: { "X-Real-IP": ip, ...headers } });
  return { send, refused: () => refused };
}

async function burst(
  send: (ip: string) => Response | Promise<Response>,
  count: number,
  ip: string,
) {
  const statuses = [];
  for (let i = 0; i < count; i++) statuses.push((await send(ip)).status);
  return statuses;
}

afterEach(() => vi.restoreAllMocks());

describe("rate limit per client IP", () => {
  it("lets the burst of 5 through, then answers 429 with Retry-After and RateLimit headers, and tells onRefused", async () => {
    const { send, refused } = tinyApp();
    expect(await burst(send, 5, "192.0.2.1")).toEqual([200, 200, 200, 200, 200]);
    const response = await send("192.0.2.1");
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(response.headers.get("RateLimit-Policy")).toBe('"per-address";q=5;w=5');
    expect(response.headers.get("RateLimit")).toMatch(/^"per-address";r=0;t=\d+$/);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 429, title: "Too Many Requests" });
    expect(refused()).toBe(1);
  });

  it("tells an allowed request its policy and how many requests remain", async () => {
    const { send } = tinyApp();
    const first = await send("192.0.2.1");
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"per-address";q=5;w=5');
    expect(first.headers.get("RateLimit")).toBe('"per-address";r=4;t=1');
    expect((await send("192.0.2.1")).headers.get("RateLimit")).toBe('"per-address";r=3;t=2');
  });

  it("keeps a separate budget for each client IP", async () => {
    const { send } = tinyApp();
    await burst(send, 6, "192.0.2.1");
    expect((await send("192.0.2.1")).status).toBe(429);
    expect((await send("192.0.2.2")).status).toBe(200);
  });

  it("reads the client from the configured header only: a spoofed X-Forwarded-For changes nothing", async () => {
    const { send } = tinyApp();
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await send("192.0.2.1", { "X-Forwarded-For": `203.0.113.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});
