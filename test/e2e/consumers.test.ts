/**
 * Consumers on the running stack, managed as an operator does (`npm run consumers`), with no
 * restart: keys and passwords, revocation and rotation, each consumer's own rate and daily quota,
 * and what the management interface lets whom do.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { API_KEY_PREFIX } from "../../workers/gateway/consumers/api-key.ts";
import {
  basicAuth,
  bearer,
  call,
  consumers,
  freshClient,
  freshConsumer,
  predict,
  prometheusValue,
  settings,
  within,
} from "./client.ts";
import { supervisorctl } from "../../scripts/stack/supervisor.ts";

/** The changes reach every gateway isolate within this, the promise. */
const LIVE_WITHIN_MS = 5000;

const servedWith = (headers: Record<string, string>) => async () =>
  (await predict("I love this!", { auth: null, headers })).status === 200;
const refusedWith = (headers: Record<string, string>) => async () =>
  (await predict("I love this!", { auth: null, headers })).status === 401;

describe("consumers", () => {
  it("adds a consumer whose key, printed once as one JSON line, signs in within 5 s by Bearer and by X-API-Key, and never shows in list", async () => {
    const name = freshConsumer("team");
    const added = await consumers(["add", name]);
    expect(Object.keys(added).sort()).toEqual(["key", "key_id", "name"]);
    expect(added.name).toBe(name);
    expect(added.key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(
      await within(LIVE_WITHIN_MS, servedWith({ Authorization: bearer(added.key) })),
    ).toBeDefined();
    expect(await servedWith({ "X-API-Key": added.key })()).toBe(true);
    const listed = (await consumers(["list", "--json"])) as any[];
    const entry = [listed].flat().find((c) => c.name === name);
    expect(entry.keys.map((k: any) => k.id)).toEqual([added.key_id]);
    expect(JSON.stringify(listed)).not.toContain(added.key);
  });

  it("gives a mistyped, an unknown, a revoked and an expired key the same 401 problem", async () => {
    const name = freshConsumer("expiring");
    const kept = await consumers(["add", name]);
    const expiring = await consumers([
      "add",
      freshConsumer("short-lived"),
      "--expires",
      new Date(Date.now() + 8000).toISOString(),
    ]);
    const revoked = await consumers(["add", freshConsumer("revoked")]);
    expect(await within(LIVE_WITHIN_MS, servedWith({ "X-API-Key": revoked.key }))).toBeDefined();
    await consumers(["revoke", revoked.key_id]);
    const last = kept.key.at(-1) === "A" ? "B" : "A";
    const mistyped = `${kept.key.slice(0, -1)}${last}`;
    const unknown = (await consumers(["add", freshConsumer("unknown")])).key.replace(
      /^fek_./,
      "fek_Z",
    );
    await within(12_000, refusedWith({ "X-API-Key": expiring.key }));
    await within(LIVE_WITHIN_MS, refusedWith({ "X-API-Key": revoked.key }));
    const bodies = new Set<string>();
    for (const key of [mistyped, unknown, revoked.key, expiring.key]) {
      const reply = await predict("hello", { auth: null, headers: { "X-API-Key": key } });
      expect(reply.status, key).toBe(401);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      bodies.add(reply.body);
    }
    expect(bodies.size).toBe(1);
    expect(await servedWith({ "X-API-Key": kept.key })()).toBe(true);
  });

  it("revokes a consumer's keys and password within 5 s, with no restart, and records who did it", async () => {
    const name = freshConsumer("leaving");
    const { key } = await consumers(["add", name]);
    await consumers(["add", name, "--password-stdin"], "a password of theirs\n");
    const password = basicAuth(name, "a password of theirs");
    expect(await within(LIVE_WITHIN_MS, servedWith({ Authorization: password }))).toBeDefined();
    expect(await servedWith({ "X-API-Key": key })()).toBe(true);
    await consumers(["revoke", name]);
    expect(await within(LIVE_WITHIN_MS, refusedWith({ "X-API-Key": key }))).toBeDefined();
    expect(await within(LIVE_WITHIN_MS, refusedWith({ Authorization: password }))).toBeDefined();
    const audit = [(await consumers(["audit", "--json"])) as any[]].flat();
    const actions = audit.filter((e) => e.subject === name).map((e) => e.action);
    expect(actions).toEqual(["add", "issue-key", "set-password", "revoke"]);
    for (const entry of audit.filter((e) => e.subject === name)) {
      expect(entry.actor).toBe(
        process.env.SUDO_USER ?? (await import("node:os")).userInfo().username,
      );
      expect(Math.abs(entry.at - Date.now())).toBeLessThan(120_000);
    }
  });

  it("rotates a key: the new one signs in within 5 s, the old one until its grace period ends", async () => {
    const name = freshConsumer("rotating");
    const old = await consumers(["add", name]);
    expect(await within(LIVE_WITHIN_MS, servedWith({ "X-API-Key": old.key }))).toBeDefined();
    const rotated = await consumers(["rotate", name, "--grace", "6"]);
    expect(rotated.key).not.toBe(old.key);
    expect(await within(LIVE_WITHIN_MS, servedWith({ "X-API-Key": rotated.key }))).toBeDefined();
    expect(await servedWith({ "X-API-Key": old.key })()).toBe(true);
    expect(
      await within(6000 + LIVE_WITHIN_MS, refusedWith({ "X-API-Key": old.key })),
    ).toBeDefined();
    expect(await servedWith({ "X-API-Key": rotated.key })()).toBe(true);
  });

  it("refuses a feedback-only key /predict with a 403 problem", async () => {
    const labellers = await consumers(["add", freshConsumer("labellers"), "--scope", "feedback"]);
    const refused = await within(LIVE_WITHIN_MS, async () => {
      const reply = await predict("hello", { auth: null, headers: { "X-API-Key": labellers.key } });
      return reply.status === 403;
    });
    expect(refused).toBeDefined();
  });

  it("limits a consumer to its own rate across addresses: past its burst a 429 problem names per-consumer, with all three policies in RateLimit-Policy", async () => {
    const team = await consumers([
      "add",
      freshConsumer("slow"),
      "--rps",
      "0.1",
      "--burst",
      "3",
      "--daily",
      "1000",
    ]);
    expect(await within(LIVE_WITHIN_MS, servedWith({ "X-API-Key": team.key }))).toBeDefined();
    const replies = [];
    // From a fresh address each time: the address's limit is not what refuses.
    for (let i = 0; i < 4; i++)
      replies.push(await predict("hello", { auth: null, headers: { "X-API-Key": team.key } }));
    const refused = replies.filter((r) => r.status === 429);
    expect(replies.filter((r) => r.status === 200).length).toBe(2);
    expect(refused.length).toBe(2);
    for (const reply of refused) {
      expect(reply.json()["violated-policy"]).toBe("per-consumer");
      expect(Number(reply.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(reply.headers.ratelimit).toMatch(/^"per-consumer";r=0;t=\d+$/);
      expect(reply.headers["ratelimit-policy"]).toMatch(
        /"per-address";q=\d+;w=\d+, "per-consumer";q=3;w=30/,
      );
    }
    const served = replies.find((r) => r.status === 200)!;
    expect(served.headers["ratelimit-policy"]).toMatch(
      /^"per-address";q=\d+;w=\d+, "per-consumer";q=3;w=30, "daily";q=\d+;w=86400$/,
    );
  });

  it("keeps a consumer's daily quota through a gateway restart: past it a 429 problem names daily and retries at midnight UTC; its requests are in Prometheus", async () => {
    const name = freshConsumer("daily");
    const team = await consumers(["add", name, "--daily", "3"]);
    expect(await within(LIVE_WITHIN_MS, servedWith({ "X-API-Key": team.key }))).toBeDefined();
    const headers = { "X-API-Key": team.key };
    expect((await predict("two", { auth: null, headers })).status).toBe(200);
    supervisorctl("restart", "gateway"); // throws unless supervisorctl says it did
    expect(
      await within(20_000, async () => {
        const health = await call("/health", { httpPort: settings.gatewayOpsPort }).catch(
          () => null,
        );
        return health?.status === 200;
      }),
    ).toBeDefined();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await predict("after", { auth: null, headers }));
    expect(statuses.map((r) => r.status)).toEqual([200, 429, 429]);
    const refused = statuses[1]!;
    expect(refused.json()["violated-policy"]).toBe("daily");
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(Math.abs(Date.now() + retryAfter * 1000 - midnight.getTime())).toBeLessThan(5000);
    await sleep(6000); // a scrape
    // The restarted gateway's own counters: its one request served, its two refusals.
    expect(
      await prometheusValue(
        `sum(fortress_consumer_requests_total{consumer="${name}",status="200"})`,
      ),
    ).toBe(1);
    expect(
      await prometheusValue(`sum(fortress_consumer_quota_refused_total{consumer="${name}"})`),
    ).toBe(2);
  });

  it("serves no management route on the public API nor on the gateway's ops port", async () => {
    for (const path of ["/consumers", "/audit", "/revoke/anyone"]) {
      for (const method of ["GET", "POST"]) {
        expect((await call(path, { method, from: freshClient() })).status).toBe(404);
        expect((await call(path, { method, httpPort: settings.gatewayOpsPort })).status).toBe(404);
      }
    }
  });
});
