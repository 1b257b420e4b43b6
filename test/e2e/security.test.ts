import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type SecureVersion } from "node:tls";
import { describe, expect, it } from "vitest";
import { certificate } from "../../scripts/stack/secrets.ts";
import { ROOT } from "../../scripts/stack/settings.ts";
import { settings } from "./client.ts";

const ca = readFileSync(certificate.cert);

/** The protocol a handshake pinned to `version` ends with, or the error that ended it. */
function handshake(version: SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({
      host: "127.0.0.1",
      port: settings.httpsPort,
      servername: "localhost",
      ca,
      minVersion: version,
      maxVersion: version,
      // Let this client offer the old protocols at all; the server must be the one to refuse.
      ciphers: "DEFAULT:@SECLEVEL=0",
    });
    socket.once("secureConnect", () => {
      resolve(socket.getProtocol() ?? "unknown");
      socket.destroy();
    });
    socket.once("error", (error) => resolve(`refused: ${error.message}`));
  });
}

describe("TLS", () => {
  it("refuses TLS 1.0 and 1.1", async () => {
    expect(await handshake("TLSv1")).toMatch(/^refused/);
    expect(await handshake("TLSv1.1")).toMatch(/^refused/);
  });

  it("speaks TLS 1.2 and 1.3", async () => {
    expect(await handshake("TLSv1.2")).toBe("TLSv1.2");
    expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
  });

  it("presents a certificate that verifies against our CA file for localhost and 127.0.0.1", async () => {
    for (const servername of ["localhost", undefined]) {
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: settings.httpsPort, servername, ca }, () => {
          resolve(socket.authorized);
          socket.destroy();
        });
        socket.once("error", reject);
      });
      expect(authorized).toBe(true);
    }
  });
});

describe("the repository", () => {
  const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);

  it("tracks no private key, certificate, credentials or secrets file", () => {
    expect(tracked.filter((f) => /\.(key|pem|crt)$|^\.secrets\/|^\.dev\.vars$|credentials\.env$/.test(f))).toEqual([]);
    // git grep exits 1 when nothing matches: that is the pass.
    const withKeys = spawnSync("git", ["grep", "-l", "-e", "-----BEGIN [A-Z ]*PRIVATE KEY-----", "--", "."], { cwd: ROOT, encoding: "utf8" });
    expect(withKeys.stdout).toBe("");
  });

  it("tracks no password hash", () => {
    const hashes = tracked.filter((f) => !f.endsWith(".test.ts") && /pbkdf2-sha256\$\d+\$[A-Za-z0-9+/=]{8,}\$/.test(readFileSync(`${ROOT}/${f}`, "latin1")));
    expect(hashes).toEqual([]);
  });
});
