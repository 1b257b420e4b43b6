import { describe, expect, it } from "vitest";
import { workerUnderTest as gateway } from "../../../shared/worker-under-test.ts";

describe("request id", () => {
  it("keeps a sane client id", async () => {
    const response = await gateway.fetch("http://gateway/health", { headers: { "X-Request-Id": "abc.DEF_123-x" } });
    expect(response.headers.get("X-Request-Id")).toBe("abc.DEF_123-x");
  });

  it("replaces an id that is too long or has other characters", async () => {
    for (const id of ["a".repeat(129), "has space", "semi;colon"]) {
      const response = await gateway.fetch("http://gateway/health", { headers: { "X-Request-Id": id } });
      expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("gives an error response an id too", async () => {
    expect((await gateway.fetch("http://gateway/nope")).headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
