/**
 * The registry's keys: issued once, kept as their SHA-256 only, revoked and rotated. A refusal is
 * asserted inside the object (runInDurableObject): a rejected RPC leaks an unhandled rejection into
 * vitest's pool (workers-sdk#14736).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../middleware/basic-auth/password-hash.ts";
import { apiKeyHash } from "./api-key.ts";

const registry = () => env.CONSUMERS.get(env.CONSUMERS.idFromName(`keys-${Math.random()}`));

describe("the registry's keys", () => {
  it("hands the gateways a key's SHA-256 and scopes, never the key; list shows neither", async () => {
    const r = registry();
    await r.addConsumer("ops", { name: "team-a" });
    const { id, key } = await r.issueKey("ops", "team-a", ["predict", "feedback"]);
    const snapshot = await r.snapshot("", {});
    const [entry] = snapshot.consumers!;
    expect(entry!.keys).toEqual([
      { id, sha256: apiKeyHash(key), scopes: ["predict", "feedback"], expiresAt: null },
    ]);
    const listed = JSON.stringify(await r.list());
    expect(listed).toContain(id);
    expect(listed).not.toContain(key);
    expect(listed).not.toContain(apiKeyHash(key));
  });

  it("gives a new key the predict scope alone unless told, and refuses an unknown scope", async () => {
    const r = registry();
    await r.addConsumer("ops", { name: "team-b" });
    await r.issueKey("ops", "team-b");
    expect((await r.snapshot("", {})).consumers![0]!.keys[0]!.scopes).toEqual(["predict"]);
    await runInDurableObject(r, (registry) =>
      expect(() => registry.issueKey("ops", "team-b", ["admin" as "predict"])).toThrow(/scopes/),
    );
  });

  it("answers a gateway that holds the current version with the version alone", async () => {
    const r = registry();
    await r.addConsumer("ops", { name: "team-c" });
    const { version } = await r.snapshot("", {});
    expect(await r.snapshot(version, {})).toEqual({ version });
    await r.issueKey("ops", "team-c");
    expect((await r.snapshot(version, {})).version).not.toBe(version);
  });

  it("drops a revoked key, and every credential of a revoked consumer, whose name stays taken", async () => {
    const r = registry();
    await r.addConsumer("ops", { name: "team-d" });
    const first = await r.issueKey("ops", "team-d");
    const second = await r.issueKey("ops", "team-d");
    await r.revoke("ops", first.id);
    expect((await r.snapshot("", {})).consumers![0]!.keys.map((k) => k.id)).toEqual([second.id]);
    await r.revoke("ops", "team-d");
    const [entry] = (await r.snapshot("", {})).consumers!;
    expect(entry).toMatchObject({ revoked: true, keys: [], passwords: [] });
    await runInDurableObject(r, (registry) => {
      expect(() => registry.addConsumer("ops", { name: "team-d" })).toThrow(/revoked/);
    });
  });

  it("rotates: a new key with the old one's scopes, the old one expiring after the grace period", async () => {
    const r = registry();
    await r.addConsumer("ops", { name: "team-e" });
    const old = await r.issueKey("ops", "team-e", ["feedback"]);
    const before = Date.now();
    const rotated = await r.rotate("ops", "team-e", 60);
    const keys = (await r.snapshot("", {})).consumers![0]!.keys;
    const oldKey = keys.find((k) => k.id === old.id)!;
    expect(oldKey.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(oldKey.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(keys.find((k) => k.id === rotated.id)).toMatchObject({
      scopes: ["feedback"],
      expiresAt: null,
    });
  });

  it("rotates one key at a time: a consumer with two active keys names the one by its id", async () => {
    const r = registry();
    await r.addConsumer("ops", { name: "team-f" });
    const first = await r.issueKey("ops", "team-f", ["predict"]);
    await r.issueKey("ops", "team-f", ["feedback"]);
    await runInDurableObject(r, (registry) =>
      expect(() => registry.rotate("ops", "team-f", 0)).toThrow(/2 active keys.*by its id/),
    );
    const rotated = await r.rotate("ops", first.id, 0);
    const scopes = (await r.snapshot("", {})).consumers![0]!.keys.map((k) => k.scopes);
    expect(rotated.id).not.toBe(first.id);
    expect(scopes).toContainEqual(["predict"]);
    expect(scopes).toContainEqual(["feedback"]);
  });

  it("records a name it does not know as revoked, so that a user of the API_USERS secret stays out", async () => {
    const r = registry();
    await r.revoke("ops", "only-in-the-secret");
    expect((await r.snapshot("", {})).consumers).toEqual([
      expect.objectContaining({ name: "only-in-the-secret", revoked: true }),
    ]);
    await runInDurableObject(r, (registry) =>
      expect(() => registry.revoke("ops", "key_unknown")).toThrow(/no consumer or active key/),
    );
  });

  it("adds a consumer with its key in one change, or with nothing if the key is refused", async () => {
    const r = registry();
    const issued = await r.addConsumer("ops", { name: "team-g" }, { scopes: ["feedback"] });
    expect(issued!.key).toMatch(/^fek_/);
    await runInDurableObject(r, (registry) =>
      expect(() =>
        registry.addConsumer("ops", { name: "team-h" }, { scopes: ["admin" as "predict"] }),
      ).toThrow(/scopes/),
    );
    expect((await r.list()).map((c) => c.name)).toEqual(["team-g"]);
  });

  it("keeps one password a consumer: setting one replaces the one before", async () => {
    const r = registry();
    await r.addConsumer("ops", { name: "team-i" });
    await r.setPassword("ops", "team-i", await hashPassword("first"));
    await r.setPassword("ops", "team-i", await hashPassword("second"));
    expect((await r.snapshot("", {})).consumers![0]!.passwords).toHaveLength(1);
  });

  it("refuses a name that could not be a metric label, and a limit that is not one", async () => {
    const r = registry();
    await runInDurableObject(r, (registry) => {
      for (const name of ["", "has space", 'quote"d', "x".repeat(65), "-leading"])
        expect(() => registry.addConsumer("ops", { name })).toThrow(/name/);
      expect(() =>
        registry.addConsumer("ops", { name: "ok", limits: { ratePerSecond: 0 } }),
      ).toThrow(/ratePerSecond/);
      expect(() => registry.addConsumer("ops", { name: "ok", expiresAt: Date.now() - 1 })).toThrow(
        /expiry/,
      );
      expect(() => registry.addConsumer("ops", { name: "ok", limits: { daily: 1.5 } })).toThrow(
        /daily/,
      );
    });
  });
});
