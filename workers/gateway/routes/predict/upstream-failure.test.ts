/**
 * A variant that answers with an error: the client gets the gateway's own problem, never the
 * variant's text. The variant here is a stand-in that answers as a failing inference worker or
 * nginx's pool would: the real ones cannot be made to fail this way on demand.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { problemResponse } from "../../../shared/http/problem.ts";
import { gatewayWith, predictOn } from "../../test-gateway.ts";

const INTERNAL = "TypeError: Cannot read properties of undefined at /srv/model/inference.ts:41";

/** POST /predict on a gateway whose v1 answers every request with `answer()`. */
const predictWithV1Answering = (answer: () => Response) =>
  predictOn(gatewayWith(), { ...env, V1: { fetch: async () => answer() } as unknown as Fetcher });

describe("a variant answering with an error", () => {
  it.each([
    ["a 500 problem with internal text", () => problemResponse({ status: 500, detail: INTERNAL })],
    [
      "nginx's HTML 502 page",
      () => new Response("<html><center>nginx</center></html>", { status: 502 }),
    ],
    [
      "a 422 problem (a contract the gateway should have kept)",
      () => problemResponse({ status: 422, detail: INTERNAL }),
    ],
  ])(
    "%s: the client gets the gateway's 502 problem, naming the variant and not its text",
    async (_, answer) => {
      const response = await predictWithV1Answering(answer);
      expect(response.status).toBe(502);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
      const body = await response.text();
      expect(JSON.parse(body).detail).toMatch(/^the v1 model failed \(status \d+\)/);
      expect(body).not.toContain("TypeError");
      expect(body).not.toContain("nginx");
    },
  );

  it("a 503 problem with internal text and Retry-After: the client gets the gateway's 503 with the same Retry-After", async () => {
    const response = await predictWithV1Answering(() =>
      problemResponse({ status: 503, detail: INTERNAL }, { "Retry-After": "30" }),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("30");
    const body = await response.text();
    expect(JSON.parse(body).detail).toBe("the v1 model is not available yet; retry shortly");
    expect(body).not.toContain("TypeError");
  });
});
