/** The registry's management log: every change, with who made it and when. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../middleware/basic-auth/password-hash.ts";

describe("the registry's management log", () => {
  it("records each change with its operator, its subject and its time, never a key or a password hash", async () => {
    const r = env.CONSUMERS.get(env.CONSUMERS.idFromName(`audit-${Math.random()}`));
    const started = Date.now();
    await r.addConsumer("alice@ops", { name: "team-a", limits: { daily: 10 } });
    const { id, key } = await r.issueKey("alice@ops", "team-a");
    const hash = await hashPassword("their password");
    await r.setPassword("bob@ops", "team-a", hash);
    await r.rotate("bob@ops", "team-a", 30);
    await r.revoke("carol@ops", id);
    await r.revoke("carol@ops", "team-a");
    const log = await r.auditLog();
    expect(log.map((e) => [e.actor, e.action, e.subject])).toEqual([
      ["alice@ops", "add", "team-a"],
      ["alice@ops", "issue-key", "team-a"],
      ["bob@ops", "set-password", "team-a"],
      ["bob@ops", "rotate", "team-a"],
      ["bob@ops", "issue-key", "team-a"],
      ["carol@ops", "revoke", id],
      ["carol@ops", "revoke", "team-a"],
    ]);
    for (const entry of log) expect(entry.at).toBeGreaterThanOrEqual(started);
    const text = JSON.stringify(log);
    expect(text).not.toContain(key);
    expect(text).not.toContain(hash);
  });
});
