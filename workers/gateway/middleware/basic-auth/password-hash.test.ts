import { describe, expect, it } from "vitest";
import { hashPassword, parseStoredHash, parseUsers, verifyPassword } from "./password-hash.ts";

describe("password hashes", () => {
  it("verifies the password it was made from, and no other", async () => {
    const stored = parseStoredHash(await hashPassword("s3cret:with colon", 1000));
    expect(await verifyPassword("s3cret:with colon", stored)).toBe(true);
    expect(await verifyPassword("s3cret:with colon ", stored)).toBe(false);
  });

  it("salts each hash, so one password gives two different entries", async () => {
    expect(await hashPassword("same", 1000)).not.toBe(await hashPassword("same", 1000));
  });

  it("reads several users, one a line or comma-separated", async () => {
    const entry = await hashPassword("x", 1000);
    expect([...parseUsers(`a:${entry}\nb:${entry}, c:${entry}`).keys()]).toEqual(["a", "b", "c"]);
  });

  it("refuses an entry that is not a PBKDF2 hash, naming the user", () => {
    expect(() => parseUsers("bob:plaintext")).toThrow(/"bob"/);
  });
});
