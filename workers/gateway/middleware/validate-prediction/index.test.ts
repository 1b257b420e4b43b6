/**
 * Validation on a tiny app: POST /predict as the gateway declares it (its schema, this middleware
 * and the refusal hook), the handler echoing the valid sentence in a header.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../../app-context.ts";
import { predictRoute } from "../../routes/predict/index.ts";
import { refuseInvalidBody, validatePrediction } from "./index.ts";

const app = new OpenAPIHono<GatewayEnv>({ defaultHook: refuseInvalidBody })
  .openapi({ ...predictRoute, middleware: [validatePrediction()] }, (c) =>
    c.json({ "prediction value": "neutral" as const }, 200, {
      "X-Sentence": c.req.valid("json").sentence,
    }),
  )
  .onError((error) =>
    error instanceof HTTPException
      ? error.getResponse()
      : new Response(`unexpected: ${error}`, { status: 500 }),
  );

async function postPredict(
  sentence: unknown,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return app.request("/predict", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...options.headers },
    body: options.body ?? JSON.stringify({ sentence }),
  });
}

async function problemOf(response: Response) {
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  return response.json<{
    status: number;
    detail: string;
    errors?: { field: string; reason: string }[];
  }>();
}

describe("validation of POST /predict", () => {
  it("answers 415 for a body that is not application/json", async () => {
    const response = await postPredict("hi", { headers: { "Content-Type": "text/plain" } });
    expect(response.status).toBe(415);
    expect((await problemOf(response)).detail).toMatch(/application\/json/);
  });

  it("accepts application/json with a charset", async () => {
    expect(
      (await postPredict("hi", { headers: { "Content-Type": "application/json; charset=utf-8" } }))
        .status,
    ).toBe(200);
  });

  it("answers 413 for a body over 16 KiB", async () => {
    const response = await postPredict(null, {
      body: JSON.stringify({ sentence: "a".repeat(17 * 1024) }),
    });
    expect(response.status).toBe(413);
  });

  it("answers 400 for malformed JSON", async () => {
    expect((await postPredict(null, { body: '{"sentence": "hi"' })).status).toBe(400);
  });

  it("answers 422 for a body that is not an object", async () => {
    for (const body of ["[1]", "42", '"hi"', "null"]) {
      const response = await postPredict(null, { body });
      expect(response.status).toBe(422);
      expect((await problemOf(response)).errors![0]!.field).toBe("(body)");
    }
  });

  it("hands the handler the sentence trimmed, through c.req.valid", async () => {
    expect((await postPredict("  I love this!\t")).headers.get("X-Sentence")).toBe("I love this!");
  });

  it("answers 422 naming the field when sentence is missing", async () => {
    const problem = await problemOf(await postPredict(null, { body: "{}" }));
    expect(problem.errors).toEqual([{ field: "sentence", reason: "is required" }]);
  });

  it("answers 422 when sentence is not a string", async () => {
    for (const sentence of [42, ["hi"], { text: "hi" }, null]) {
      const problem = await problemOf(await postPredict(sentence));
      expect(problem.status).toBe(422);
      expect(problem.errors).toEqual([{ field: "sentence", reason: "must be a string" }]);
    }
  });

  it("answers 422 for an empty or white-space-only sentence", async () => {
    for (const sentence of ["", "   \t\n "]) {
      const problem = await problemOf(await postPredict(sentence));
      expect(problem.errors![0]!.reason).toMatch(/empty/);
    }
  });

  it("answers 422 for 5,001 characters and accepts 5,000", async () => {
    expect((await postPredict("a".repeat(5001))).status).toBe(422);
    expect((await postPredict("a".repeat(5000))).status).toBe(200);
  });

  it("ignores unknown fields", async () => {
    expect(
      (await postPredict(null, { body: JSON.stringify({ sentence: "hi", mood: "x" }) })).status,
    ).toBe(200);
  });
});
