import { describe, expect, it } from "vitest";
import { basicAuth, predict } from "./client.ts";

describe("POST /predict through HTTPS", () => {
  it('answers 200 from v1 with exactly {"prediction value": …}', async () => {
    const reply = await predict("I love this!");
    expect(reply.status).toBe(200);
    expect(reply.headers["x-variant"]).toBe("v1");
    expect(reply.json()).toEqual({ "prediction value": "love" });
  });

  it("answers from v2 only with X-Experiment-Group: debug, with prediction_proba_dict", async () => {
    const debug = await predict("I love this!", { headers: { "X-Experiment-Group": "debug" } });
    expect(debug.headers["x-variant"]).toBe("v2");
    expect(Object.keys(debug.json().prediction_proba_dict)).toHaveLength(13);
    const other = await predict("I love this!", { headers: { "X-Experiment-Group": "control" } });
    expect(other.json()).not.toHaveProperty("prediction_proba_dict");
  });

  it("answers 401 without credentials and with wrong ones", async () => {
    expect((await predict("hi", { auth: null })).status).toBe(401);
    const wrong = await predict("hi", { auth: basicAuth(undefined, "not-the-password") });
    expect(wrong.status).toBe(401);
    expect(wrong.headers["www-authenticate"]).toBe('Basic realm="fortress", charset="UTF-8"');
  });

  it("passes a sane X-Request-Id through to the response", async () => {
    expect(
      (await predict("hi", { headers: { "X-Request-Id": "e2e-trace-1" } })).headers["x-request-id"],
    ).toBe("e2e-trace-1");
  });
});
