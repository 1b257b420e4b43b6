/** Each isolate's view of the consumers: the registry over the API_USERS secret, read again when stale. */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashPassword } from "../middleware/basic-auth/password-hash.ts";
import { apiKeyHash } from "./api-key.ts";
import {
  consumerDirectory,
  DirectoryUnavailable,
  MAX_AGE_MS,
  MAX_STALE_MS,
  REFRESH_MS,
} from "./directory.ts";
import { registryOf } from "./registry-store.ts";

const DEFAULTS = { rate: { ratePerSecond: 20, burst: 40 }, daily: 1000 };

async function setUp() {
  const namespace = env.CONSUMERS;
  const name = `directory-${Math.random()}`;
  const stub = namespace.get(namespace.idFromName(name));
  const reader = { snapshot: (v: string, used: Record<string, number>) => stub.snapshot(v, used) };
  const secret = `from-secret:${await hashPassword("s")}\nshared:${await hashPassword("s")}`;
  const directory = consumerDirectory({
    registry: reader,
    apiUsers: secret,
    defaults: DEFAULTS,
    deadlineMs: 5000,
  });
  return { stub, directory };
}

afterEach(() => vi.restoreAllMocks());

describe("the consumer directory", () => {
  it("makes each API_USERS entry a consumer with the default limits", async () => {
    const { directory } = await setUp();
    const consumer = (await directory.view()).consumers.get("from-secret")!;
    expect(consumer.rate).toEqual(DEFAULTS.rate);
    expect(consumer.daily).toBe(1000);
    expect(consumer.password).toBeDefined();
  });

  it("lets the registry win for a name in both, and a revoked name stay out though the secret has it", async () => {
    const { stub, directory } = await setUp();
    await stub.addConsumer("ops", { name: "shared", limits: { ratePerSecond: 1, daily: 0 } });
    const shared = (await directory.view()).consumers.get("shared")!;
    expect(shared.rate).toEqual({ ratePerSecond: 1, burst: 40 });
    expect(shared.daily).toBeNull();
    expect(shared.password).toBeUndefined();
    await stub.revoke("ops", "shared");
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + REFRESH_MS);
    await directory.view(); // starts the read (no waitUntil here: it is awaited)
    expect((await directory.view()).consumers.has("shared")).toBe(false);
  });

  it("sees a change once its view is REFRESH_MS old, and not before", async () => {
    const { stub, directory } = await setUp();
    await directory.view();
    await stub.addConsumer("ops", { name: "newcomer" });
    const { key } = await stub.issueKey("ops", "newcomer");
    expect((await directory.view()).keys.has(apiKeyHash(key))).toBe(false);
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + REFRESH_MS);
    expect((await directory.view()).keys.get(apiKeyHash(key))?.consumer.name).toBe("newcomer");
  });

  it("answers from its view while a background read runs, once the view is REFRESH_MS old", async () => {
    const { stub, directory } = await setUp();
    await directory.view();
    await stub.addConsumer("ops", { name: "soon" });
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + REFRESH_MS);
    const reads: Promise<unknown>[] = [];
    expect((await directory.view((p) => reads.push(p))).consumers.has("soon")).toBe(false);
    await Promise.all(reads);
    expect((await directory.view((p) => reads.push(p))).consumers.has("soon")).toBe(true);
  });

  it("reads again before it answers once its view is MAX_AGE_MS old: a revocation stops the very next request", async () => {
    const { stub, directory } = await setUp();
    await stub.addConsumer("ops", { name: "leaving" });
    await directory.view();
    await stub.revoke("ops", "leaving");
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + MAX_AGE_MS);
    expect((await directory.view(() => {})).consumers.has("leaving")).toBe(false);
  });

  it("keeps its view while the registry cannot be read, then fails closed past MAX_STALE_MS", async () => {
    let reachable = true;
    const directory = consumerDirectory({
      registry: {
        snapshot: async () => {
          if (!reachable) throw new Error("registry unreachable");
          return { version: "e.1", consumers: [] };
        },
      },
      apiUsers: `kept:${await hashPassword("s")}`,
      defaults: DEFAULTS,
      deadlineMs: 1000,
    });
    await directory.view();
    reachable = false;
    const now = Date.now();
    vi.spyOn(Date, "now").mockReturnValue(now + MAX_AGE_MS);
    expect((await directory.view()).consumers.has("kept")).toBe(true);
    vi.spyOn(Date, "now").mockReturnValue(now + MAX_STALE_MS);
    await expect(directory.view()).rejects.toBeInstanceOf(DirectoryUnavailable);
  });

  it("tells the registry when each credential was last used, with its next read", async () => {
    const { stub, directory } = await setUp();
    await stub.addConsumer("ops", { name: "busy" });
    const { id } = await stub.issueKey("ops", "busy");
    await directory.view();
    directory.used(id);
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + REFRESH_MS);
    await directory.view();
    const [listed] = await stub.list();
    expect(listed!.keys[0]!.lastUsedAt).not.toBeNull();
  });
});

it("registryOf names one registry object for every gateway", () => {
  const a = registryOf(env.CONSUMERS).registry().id;
  const b = registryOf(env.CONSUMERS).registry().id;
  expect(a.equals(b)).toBe(true);
});
