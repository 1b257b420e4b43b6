/** The address a client is limited by: IPv4 as it is, IPv6 by its /64. */
import { describe, expect, it } from "vitest";
import { clientAddress } from "./client-address.ts";

describe("clientAddress", () => {
  it("keeps an IPv4 address, and unwraps an IPv4-mapped IPv6 one", () => {
    expect(clientAddress("192.0.2.7")).toBe("192.0.2.7");
    expect(clientAddress("::ffff:192.0.2.7")).toBe("192.0.2.7");
  });

  it("keys every address of one IPv6 /64 alike, however it is written", () => {
    const key = clientAddress("2001:db8:1:2::1");
    expect(key).toBe("2001:db8:1:2::/64");
    for (const other of [
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:0DB8:0001:0002:0:0:0:9",
      "2001:db8:1:2:a::b",
    ])
      expect(clientAddress(other)).toBe(key);
    expect(clientAddress("2001:db8:1:3::1")).not.toBe(key);
    expect(clientAddress("::1")).toBe("0:0:0:0::/64");
  });

  it("leaves what is not an address as it is", () => {
    expect(clientAddress("unknown")).toBe("unknown");
    expect(clientAddress("1:2:3")).toBe("1:2:3");
  });
});
