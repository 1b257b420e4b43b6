/** API keys on a tiny app: the middleware alone, over a registry of the test's own. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { newApiKey } from "../../consumers/api-key.ts";
import { directoryOver, freshRegistry } from "../../test-support.ts";
import { apiKeyAuthentication } from "./index.ts";

async function tinyApp() {
  const registry = freshRegistry();
  await registry.addConsumer("test", { name: "team-a" });
  const directoryView = directoryOver(registry);
  let views = 0;
  const app = new Hono<GatewayEnv>()
    .use(
      apiKeyAuthentication({
        viewOf: () => {
          views++;
          return directoryView();
        },
        realm: "fortress",
      }),
    )
    .get("/", (c) =>
      c.text(c.get("signedIn") ? `in as ${c.get("signedIn").consumer.name}` : "no key"),
    )
    .onError((error) =>
      error instanceof HTTPException
        ? error.getResponse()
        : new Response(String(error), { status: 500 }),
    );
  const send = (headers: Record<string, string>) => app.request("/", { headers });
  return { registry, send, views: () => views };
}

describe("API key sign-in", () => {
  it("signs a key in as its consumer, from Authorization: Bearer or X-API-Key", async () => {
    const { registry, send } = await tinyApp();
    const { key } = await registry.issueKey("test", "team-a");
    const ways: Record<string, string>[] = [
      { Authorization: `Bearer ${key}` },
      { "X-API-Key": key },
    ];
    for (const headers of ways) {
      const response = await send(headers);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("in as team-a");
    }
  });

  it("leaves a request with no key to Basic Auth", async () => {
    const { send } = await tinyApp();
    expect(await (await send({ Authorization: "Basic abc" })).text()).toBe("no key");
  });

  it("refuses a malformed key without a lookup, and an unknown, revoked or expired one after it, all with the same 401 problem", async () => {
    const { registry, send, views } = await tinyApp();
    const revoked = await registry.issueKey("test", "team-a");
    await registry.revoke("test", revoked.id);
    const expired = await registry.issueKey("test", "team-a", ["predict"], Date.now() + 50);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const valid = newApiKey();
    const malformed = [
      `${valid.slice(0, -1)}${valid.at(-1) === "a" ? "b" : "a"}`,
      "fek_short",
      "not a key",
    ];
    for (const key of malformed) await send({ "X-API-Key": key });
    expect(views()).toBe(0);
    const bodies = new Set<string>();
    for (const key of [...malformed, valid, revoked.key, expired.key]) {
      const response = await send({ Authorization: `Bearer ${key}` });
      expect(response.status, key).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="fortress"');
      bodies.add(await response.text());
    }
    expect(bodies.size).toBe(1);
  });
});
