import { describe, expect, it } from "vitest";
import { basicAuthHeader, freshIp, postPredict } from "../../test-support.ts";

async function burst(count: number, ip: string, headers: Record<string, string> = {}) {
  const statuses = [];
  for (let i = 0; i < count; i++) statuses.push((await postPredict("hello", { ip, headers })).status);
  return statuses;
}

describe("rate limit per client IP", () => {
  it("lets the burst of 5 through, then answers 429 with Retry-After and RateLimit headers", async () => {
    const ip = freshIp();
    expect(await burst(5, ip)).toEqual([200, 200, 200, 200, 200]);
    const refused = await postPredict("hello", { ip });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect(refused.headers.get("RateLimit-Policy")).toBe('"per-ip";q=1;w=1');
    expect(refused.headers.get("RateLimit")).toMatch(/^"per-ip";r=0;t=\d+$/);
    expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ status: 429, title: "Too Many Requests" });
  });

  it("tells an allowed request its policy and how many requests remain", async () => {
    const ip = freshIp();
    const first = await postPredict("hello", { ip });
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"per-ip";q=1;w=1');
    expect(first.headers.get("RateLimit")).toBe('"per-ip";r=4;t=1');
    expect((await postPredict("hello", { ip })).headers.get("RateLimit")).toBe('"per-ip";r=3;t=1');
  });

  it("keeps a separate budget for each client IP", async () => {
    const first = freshIp();
    await burst(6, first);
    expect((await postPredict("hello", { ip: first })).status).toBe(429);
    expect((await postPredict("hello", { ip: freshIp() })).status).toBe(200);
  });

  it("ignores a spoofed X-Forwarded-For: the bucket stays the client's", async () => {
    const ip = freshIp();
    const spoofed = (n: number) => ({ "X-Forwarded-For": `203.0.113.${n}` });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await postPredict("hello", { ip, headers: spoofed(i) })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it("counts requests before credentials, so password guessing is limited too", async () => {
    const ip = freshIp();
    const guesses = [];
    for (let i = 0; i < 6; i++) {
      guesses.push((await postPredict("hi", { ip, authorization: basicAuthHeader("alice", `guess${i}`) })).status);
    }
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
