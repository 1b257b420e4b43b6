import { describe, expect, it } from "vitest";
import {
  opsOfWorkerUnderTest as ops,
  workerUnderTest as gateway,
} from "../../shared/testing/worker-under-test.ts";
import {
  basicAuthHeader,
  freshIp,
  postPredict,
  TEST_PASSWORD,
  TEST_USER,
} from "../test-support.ts";

function postFeedback(
  body: unknown,
  authorization: string | null = basicAuthHeader(TEST_USER, TEST_PASSWORD),
): Promise<Response> {
  return gateway.fetch("http://gateway/feedback", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Real-IP": freshIp(),
      ...(authorization ? { Authorization: authorization } : {}),
    },
    body: JSON.stringify(body),
  });
}

async function tokenOf(headers: Record<string, string> = {}): Promise<string> {
  const token = (await postPredict("I love this!", { headers })).headers.get("X-Prediction-Token");
  expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  return token!;
}

describe("feedback on a prediction", () => {
  it("gives every prediction a token, and takes feedback on it with a 202", async () => {
    for (const headers of [{}, { "X-Experiment-Group": "debug" }] as Record<string, string>[]) {
      const response = await postFeedback({ token: await tokenOf(headers), label: "love" });
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ status: "accepted" });
    }
  });

  it("counts feedback by variant, model version and whether the model was right", async () => {
    await postFeedback({ token: await tokenOf(), label: "worry" });
    const metrics = await ops.fetch("http://gateway/metrics");
    expect(await metrics.text()).toMatch(
      /^fortress_feedback_total\{variant="v1",model="[0-9a-f]{12}",correct="false"\} [1-9]/m,
    );
  });

  it("refuses a forged token, an unknown label and a body without a token with a 422 problem", async () => {
    const token = await tokenOf();
    const [claims, signature] = token.split(".");
    const forged = `${claims}.${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BB" : "AA"}`;
    for (const body of [
      { token: forged, label: "love" },
      { token, label: "ecstatic" },
      { label: "love" },
    ]) {
      const response = await postFeedback(body);
      expect(response.status).toBe(422);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });

  it("asks for credentials like /predict", async () => {
    expect((await postFeedback({ token: await tokenOf(), label: "love" }, null)).status).toBe(401);
  });
});
