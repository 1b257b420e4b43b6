/**
 * Hostile input, table-driven, through HTTPS: each case has its expected status and, for an error,
 * a problem+json body. None may get a 5xx, and afterwards the stack is healthy with every process
 * still the one it was (same PIDs: nothing crashed and was restarted behind our back).
 */
import { connect } from "node:tls";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { supervisorctl } from "../../scripts/stack/supervisor.ts";
import { certificate } from "../../scripts/stack/secrets.ts";
import { basicAuth, call, freshClient, predict, settings, type CallOptions } from "./client.ts";

interface Case {
  name: string;
  status: number;
  /** Defaults to POST /predict with valid credentials and Content-Type. */
  path?: string;
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  auth?: string | null;
}

const json = (value: unknown) => JSON.stringify(value);
const sentence = (value: unknown) => json({ sentence: value });
const OK = 200;

const cases: Case[] = [
  { name: "malformed JSON", body: '{"sentence": "hi"', status: 400 },
  // A UTF-8 decoder drops a leading BOM, which RFC 8259 lets a parser ignore.
  { name: "a byte-order mark before the JSON", body: `\uFEFF${sentence("hi")}`, status: OK },
  { name: "a JSON array as the body", body: "[]", status: 422 },
  { name: "a JSON number as the body", body: "42", status: 422 },
  { name: "a JSON string as the body", body: '"I love this"', status: 422 },
  { name: "JSON null as the body", body: "null", status: 422 },
  { name: "an empty body", body: "", status: 400 },
  { name: "sentence missing", body: "{}", status: 422 },
  { name: "sentence a number", body: sentence(42), status: 422 },
  { name: "sentence an array", body: sentence(["I", "love"]), status: 422 },
  { name: "sentence an object", body: sentence({ text: "hi" }), status: 422 },
  { name: "sentence null", body: sentence(null), status: 422 },
  { name: "sentence empty", body: sentence(""), status: 422 },
  { name: "sentence white space only", body: sentence(" \t\n  "), status: 422 },
  { name: "sentence of 5,001 characters", body: sentence("a".repeat(5001)), status: 422 },
  { name: "sentence of 5,000 characters", body: sentence("a".repeat(5000)), status: OK },
  {
    name: "a 17 KiB body",
    body: json({ sentence: "hi", pad: "x".repeat(17 * 1024) }),
    status: 413,
  },
  { name: "a 1 MiB body", body: json({ sentence: "x".repeat(1024 * 1024) }), status: 413 },
  {
    name: "Content-Type text/plain",
    headers: { "Content-Type": "text/plain" },
    body: sentence("hi"),
    status: 415,
  },
  {
    name: "Content-Type form-urlencoded",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "sentence=hi",
    status: 415,
  },
  { name: "no Content-Type", headers: { "Content-Type": "" }, body: sentence("hi"), status: 415 },
  { name: "GET /predict", method: "GET", status: 405 },
  { name: "PUT /predict", method: "PUT", body: sentence("hi"), status: 405 },
  { name: "DELETE /predict", method: "DELETE", status: 405 },
  { name: "OPTIONS /predict", method: "OPTIONS", status: 405 },
  { name: "HEAD /predict", method: "HEAD", status: 405 },
  { name: "/predict/ (trailing slash)", path: "/predict/", status: 404 },
  { name: "/PREDICT (other case)", path: "/PREDICT", status: 404 },
  { name: "/predict/../metrics", path: "/predict/../metrics", status: 404 },
  { name: "/predict%2F..%2Fmetrics", path: "/predict%2F..%2Fmetrics", status: 404 },
  { name: "percent-encoded /%70redict", path: "/%70redict", status: OK },
  { name: "a query string", path: "/predict?debug=1&x=%00", status: OK },
  { name: "emoji", body: sentence("I love this 😍🔥👍🏽"), status: OK },
  { name: "right-to-left text", body: sentence("אני אוהב את זה! أنا أحب هذا"), status: OK },
  { name: "a NUL character", body: sentence("I love\u0000 this"), status: OK },
  {
    name: "control characters",
    body: sentence("\u0001\u0002\u001b[31mred\u007f\u0085"),
    status: OK,
  },
  {
    name: "invalid UTF-8 bytes",
    body: Buffer.concat([
      Buffer.from('{"sentence": "caf'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
      Buffer.from('"}'),
    ]),
    status: OK,
  },
  { name: "a lone surrogate", body: '{"sentence": "broken \\ud800 pair"}', status: OK },
  {
    name: "deeply nested unknown fields",
    body: `{"sentence": "hi", "x": ${"[".repeat(500)}${"]".repeat(500)}}`,
    status: OK,
  },
  {
    name: "Basic Auth with a colon in a wrong password",
    auth: basicAuth(undefined, "wrong:password"),
    body: sentence("hi"),
    status: 401,
  },
  {
    name: "Basic Auth with malformed base64",
    auth: "Basic %%%not-base64%%%",
    body: sentence("hi"),
    status: 401,
  },
  {
    name: "Basic Auth without a colon",
    auth: `Basic ${Buffer.from("nocolon").toString("base64")}`,
    body: sentence("hi"),
    status: 401,
  },
  {
    name: "a Bearer token instead of Basic",
    auth: "Bearer abc.def.ghi",
    body: sentence("hi"),
    status: 401,
  },
  {
    name: "a 10 KiB Authorization header",
    auth: `Basic ${"A".repeat(10 * 1024)}`,
    body: sentence("hi"),
    status: 401,
  },
  {
    name: "100 extra headers",
    headers: Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`X-Filler-${i}`, `value-${i}`]),
    ),
    body: sentence("hi"),
    status: OK,
  },
  {
    name: "an 8 KiB X-Experiment-Group",
    headers: { "X-Experiment-Group": "d".repeat(8 * 1024) },
    body: sentence("hi"),
    status: OK,
  },
];

function pids(): Record<string, string> {
  const out = supervisorctl("status");
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((line) => [line.split(/\s+/)[0], line.match(/pid (\d+)/)?.[1] ?? "none"]),
  );
}

describe("hostile input through HTTPS", () => {
  let before: Record<string, string>;
  beforeAll(() => {
    before = pids();
  });

  it("has at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)("$name -> $status", async (c) => {
    const options: CallOptions = {
      method: c.method ?? "POST",
      from: freshClient(),
      body: c.body ?? (c.method && c.method !== "POST" ? undefined : sentence("hi")),
      headers: {
        "Content-Type": "application/json",
        ...(c.auth === null ? {} : { Authorization: c.auth ?? basicAuth() }),
        ...c.headers,
      },
    };
    if (options.headers!["Content-Type"] === "") delete options.headers!["Content-Type"];
    const reply = await call(c.path ?? "/predict", options);
    expect(reply.status).toBe(c.status);
    if (c.method === "HEAD") return; // no body to look at
    if (c.status === OK) {
      expect(reply.json()).toHaveProperty("prediction value");
    } else {
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      expect(reply.json()).toMatchObject({
        status: c.status,
        type: expect.any(String),
        title: expect.any(String),
        detail: expect.any(String),
      });
    }
  });

  it("times out a client that sends headers and never its body, while others are served", async () => {
    const started = Date.now();
    const closed = new Promise<string>((resolve) => {
      const socket = connect(
        {
          host: "127.0.0.1",
          port: settings.httpsPort,
          ca: readFileSync(certificate.cert),
          servername: "localhost",
        },
        () => {
          socket.write(
            `POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\nAuthorization: ${basicAuth()}\r\n\r\n{"sent`,
          );
        },
      );
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk.toString()));
      socket.on("close", () => resolve(answer));
      socket.on("error", () => resolve(answer));
      setTimeout(() => socket.destroy(), 20_000);
    });
    expect((await predict("I am served meanwhile")).status).toBe(200);
    const answer = await closed;
    const waited = Date.now() - started;
    // nginx's client_body_timeout is 10 s: dropped after it (a little early on timer rounding), not before.
    expect(waited).toBeGreaterThanOrEqual(9_500);
    expect(waited).toBeLessThan(15_000);
    expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
  }, 30_000);

  afterAll(async () => {
    expect((await call("/health")).json()).toMatchObject({ status: "ok" });
    expect(pids()).toEqual(before);
  });
});
