/** The protective headers of every answer, the gateway's and nginx's own, as clients receive them. */
import { describe, expect, it } from "vitest";
import { basicAuth, call, freshClient, predict, settings, type Reply } from "./client.ts";

/** One of each kind of answer the public ports give: every route, the gateway's refusals, nginx's own errors. */
async function everyKindOfAnswer(): Promise<[string, Reply][]> {
  const json = { "Content-Type": "application/json" };
  const answers: [string, Reply][] = [
    ["GET /health", await call("/health")],
    ["GET /openapi.json", await call("/openapi.json")],
    ["GET /docs", await call("/docs", { headers: { "Accept-Encoding": "gzip" } })],
    ["POST /predict", await predict("I love this!")],
    [
      "POST /predict, debug",
      await predict("I love this!", { headers: { "X-Experiment-Group": "debug" } }),
    ],
    ["POST /predict, no credentials", await predict("hi", { auth: null })],
    ["POST /predict, empty sentence", await predict("")],
    ["POST /predict, not JSON", await predict("hi", { headers: { "Content-Type": "text/plain" } })],
    ["GET /predict", await call("/predict")],
    [
      "POST /feedback, bad token",
      await call("/feedback", {
        method: "POST",
        from: freshClient(),
        headers: { ...json, Authorization: basicAuth() },
        body: JSON.stringify({ token: "forged", label: "love" }),
      }),
    ],
    ["GET /nowhere (nginx's 404)", await call("/nowhere")],
    [
      "a body too large (nginx's 413)",
      await call("/predict", { method: "POST", headers: json, body: "x".repeat(100_000) }),
    ],
    ["HTTP (nginx's 301)", await call("/health", { httpPort: settings.httpPort })],
  ];
  // nginx's per-address limit: past its burst, its own 429.
  const from = freshClient();
  const flood = await Promise.all(
    Array.from({ length: 2 * settings.publicBurstPerAddress }, () => call("/nowhere", { from })),
  );
  answers.push(["past the public limit (nginx's 429)", flood.find((r) => r.status === 429)!]);
  return answers;
}

describe("protective headers", () => {
  it("sends X-Content-Type-Options: nosniff exactly once on every kind of answer", async () => {
    const answers = await everyKindOfAnswer();
    expect(new Set(answers.map(([, reply]) => reply.status)).size).toBeGreaterThanOrEqual(9);
    for (const [what, reply] of answers)
      expect(reply.headers["x-content-type-options"], `${what}: ${reply.status}`).toBe("nosniff");
  });

  it("sends Cache-Control: no-store with every prediction token, v1's and v2's", async () => {
    for (const headers of [{}, { "X-Experiment-Group": "debug" }] as Record<string, string>[]) {
      const reply = await predict("I love this!", { headers });
      expect(reply.headers["x-prediction-token"]).toBeDefined();
      expect(reply.headers["cache-control"]).toBe("no-store");
    }
  });
});
