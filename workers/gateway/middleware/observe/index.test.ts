/** Observation on a tiny app: every answer is recorded once, with its variant and status; every refusal logged. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { observe, type Answered } from "./index.ts";

function tinyApp() {
  const recorded: Answered[] = [];
  const logged: unknown[] = [];
  const app = new Hono<GatewayEnv>()
    .use(
      observe({
        record: (answered) => recorded.push(answered),
        log: (line) => logged.push(JSON.parse(line)),
      }),
    )
    .get("/v2", (c) => {
      c.set("variant", "v2");
      c.set("route", "canary");
      return c.text("ok");
    })
    .get("/refused", () => {
      throw new HTTPException(429, { res: new Response("slow down", { status: 429 }) });
    })
    .onError((error) =>
      error instanceof HTTPException
        ? error.getResponse()
        : new Response("unexpected", { status: 500 }),
    );
  return { app, recorded, logged };
}

describe("observe", () => {
  it("records an answer's variant, route, status and duration", async () => {
    const { app, recorded } = tinyApp();
    await app.request("/v2");
    expect(recorded).toEqual([
      {
        path: "/v2",
        variant: "v2",
        route: "canary",
        model: "none",
        status: 200,
        seconds: expect.any(Number),
      },
    ]);
  });

  it("records a refusal made before any variant was chosen as variant and route none", async () => {
    const { app, recorded } = tinyApp();
    await app.request("/refused");
    expect(recorded).toEqual([
      {
        path: "/refused",
        variant: "none",
        route: "none",
        model: "none",
        status: 429,
        seconds: expect.any(Number),
      },
    ]);
  });

  it("logs one JSON line for each refusal, on any route (a 404 too), and none for an answer", async () => {
    const { app, logged } = tinyApp();
    await app.request("/v2");
    await app.request("/refused");
    await app.request("/nowhere");
    expect(logged).toEqual([
      expect.objectContaining({ method: "GET", path: "/refused", status: 429, variant: "none" }),
      expect.objectContaining({ method: "GET", path: "/nowhere", status: 404, variant: "none" }),
    ]);
  });
});
