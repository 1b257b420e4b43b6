import { describe, expect, it } from "vitest";
import { LABELS } from "../../../../model/serving/labels.ts";
import { postPredict } from "../../test-support.ts";

describe("routing on X-Experiment-Group", () => {
  it.each([
    [undefined, "v1"],
    ["debug", "v2"],
    ["DEBUG", "v2"],
    [" debug ", "v2"],
    ["debugger", "v1"],
    ["", "v1"],
  ])("sends %j to %s", async (header, variant) => {
    const response = await postPredict("hi", {
      headers: header === undefined ? {} : { "X-Experiment-Group": header },
    });
    expect(response.headers.get("X-Variant")).toBe(variant);
  });

  it("says which model version made each prediction, v1's and v2's", async () => {
    for (const headers of [{}, { "X-Experiment-Group": "debug" }] as Record<string, string>[]) {
      expect((await postPredict("hi", { headers })).headers.get("X-Model-Version")).toMatch(
        /^[0-9a-f]{12}$/,
      );
    }
  });

  it('answers from v1 by default with exactly {"prediction value": label}', async () => {
    const response = await postPredict("I love this!");
    expect(response.headers.get("X-Variant")).toBe("v1");
    expect(await response.json()).toEqual({ "prediction value": "love" });
  });

  it("answers from v2 for the debug group, with all 13 probabilities summing to 1", async () => {
    const response = await postPredict("I love this!", {
      headers: { "X-Experiment-Group": " DEBUG " },
    });
    expect(response.headers.get("X-Variant")).toBe("v2");
    const body = await response.json<{
      "prediction value": string;
      prediction_proba_dict: Record<string, number>;
    }>();
    expect(body["prediction value"]).toBe("love");
    expect(Object.keys(body.prediction_proba_dict).sort()).toEqual([...LABELS].sort());
    expect(Object.values(body.prediction_proba_dict).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it("passes the request id on to the inference worker (v2 reports what it received) and back", async () => {
    const response = await postPredict("hi", {
      headers: { "X-Request-Id": "trace-42", "X-Experiment-Group": "debug" },
    });
    expect(response.headers.get("X-Request-Id")).toBe("trace-42");
    expect((await response.json<{ request_id: string }>()).request_id).toBe("trace-42");
  });
});
