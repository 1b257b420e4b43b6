import { describe, expect, it } from "vitest";
import { apiLimit } from "../../scripts/stack/render.ts";
import { freshClient, predict, settings } from "./client.ts";

describe("rate limit per client IP, through nginx", () => {
  it("gives 20 requests at once from one address exactly the burst of 200s, then 429s with Retry-After, while another address is served", async () => {
    const burst = Number(settings.gatewayVars.RATE_LIMIT_BURST);
    // At the end-to-end stack's rate (make test: one token per 50 s) no token refills while these
    // 20 are answered, so exactly the burst gets through.
    expect(Number(settings.gatewayVars.RATE_LIMIT_RPS)).toBeLessThanOrEqual(0.2);
    const client = freshClient();
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => predict("hello", { from: client })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBe(burst);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    for (const reply of replies.filter((r) => r.status === 429)) {
      expect(Number(reply.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    expect((await predict("hello", { from: freshClient() })).status).toBe(200);
  });

  it("answers a client past its limit with the gateway's 429 and RateLimit headers, and only a flood past nginx's burst (four times the gateway's) with nginx's own 429, which says when its zone has room again", async () => {
    const burst = Number(settings.gatewayVars.RATE_LIMIT_BURST);
    const nginxBurst = apiLimit(settings).burst;
    const client = freshClient();
    const replies = await Promise.all(
      Array.from({ length: nginxBurst + 10 }, () => predict("hello", { from: client })),
    );
    const limited = replies.filter((r) => r.status === 429);
    const byGateway = limited.filter((r) => r.headers["ratelimit-policy"] !== undefined);
    const byNginx = limited.filter((r) => r.json().detail.includes("from this address"));
    expect(replies.filter((r) => r.status === 200).length).toBe(burst);
    // nginx lets its burst and one more through, as limit_req does.
    expect(byGateway.length).toBe(nginxBurst + 1 - burst);
    expect(byNginx.length).toBe(replies.length - nginxBurst - 1);
    for (const reply of byNginx) {
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      // When nginx's zone has a request for this address again (12 s at the end-to-end rate).
      expect(reply.headers["retry-after"]).toBe(String(apiLimit(settings).retryAfterSeconds));
    }
  });

  it("ignores a forged X-Forwarded-For or X-Real-IP", async () => {
    const client = freshClient();
    const replies = [];
    for (let i = 0; i < 20; i++) {
      const forged = { "X-Forwarded-For": `10.9.8.${i}`, "X-Real-IP": `10.9.9.${i}` };
      replies.push((await predict("hello", { from: client, headers: forged })).status);
    }
    expect(replies).toContain(429);
  });
});
