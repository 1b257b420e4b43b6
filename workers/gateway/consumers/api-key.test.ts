/** API keys: their shape, their entropy and their checksum, which refuses a mistyped key before any lookup. */
import { describe, expect, it } from "vitest";
import {
  API_KEY_LENGTH,
  API_KEY_PREFIX,
  apiKeyHash,
  isWellFormedApiKey,
  newApiKey,
} from "./api-key.ts";

describe("API keys", () => {
  it("carry the prefix, 32 base62 characters of randomness (over 160 bits) and a checksum that holds", () => {
    const key = newApiKey();
    expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(key).toHaveLength(API_KEY_LENGTH);
    expect(32 * Math.log2(62)).toBeGreaterThan(160);
    expect(isWellFormedApiKey(key)).toBe(true);
  });

  it("are all different, and use every base62 character", () => {
    const keys = Array.from({ length: 500 }, newApiKey);
    expect(new Set(keys).size).toBe(keys.length);
    const characters = new Set(keys.flatMap((k) => [...k.slice(API_KEY_PREFIX.length, -6)]));
    expect(characters.size).toBe(62);
  });

  it("refuses every one-character change, a wrong prefix, and any other length", () => {
    const key = newApiKey();
    for (let i = API_KEY_PREFIX.length; i < key.length; i++) {
      const changed = key.slice(0, i) + (key[i] === "a" ? "b" : "a") + key.slice(i + 1);
      expect(isWellFormedApiKey(changed), changed).toBe(false);
    }
    expect(isWellFormedApiKey(`fex_${key.slice(4)}`)).toBe(false);
    expect(isWellFormedApiKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedApiKey(`${key}a`)).toBe(false);
    expect(isWellFormedApiKey("")).toBe(false);
  });

  it("are stored as their SHA-256, hex", () => {
    expect(apiKeyHash("fek_example")).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyHash("fek_example")).not.toBe(apiKeyHash("fek_examplf"));
  });
});
