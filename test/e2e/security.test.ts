import { execFile as execFileCallback, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { connect, createServer, type SecureVersion, type Server } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificate } from "../../scripts/stack/secrets.ts";
import { ROOT } from "../../scripts/stack/settings.ts";
import { settings } from "./client.ts";

const ca = readFileSync(certificate.cert);
const execFile = promisify(execFileCallback);

/**
 * A TLS server on loopback that accepts every protocol and suite the clients below can offer, with
 * our certificate: when it accepts what nginx refuses, the refusal is nginx's, not the client's.
 */
let permissive: Server;
let permissivePort = 0;
beforeAll(async () => {
  permissive = createServer(
    {
      key: readFileSync(certificate.key),
      cert: readFileSync(certificate.cert),
      minVersion: "TLSv1",
      ciphers: "ALL:@SECLEVEL=0",
    },
    (socket) => socket.end(),
  );
  await new Promise<void>((resolve) => permissive.listen(0, "127.0.0.1", resolve));
  permissivePort = (permissive.address() as AddressInfo).port;
});
afterAll(() => permissive.close());

/** The protocol a handshake pinned to `version` ends with, or the error that ended it. */
function handshake(version: SecureVersion, port = settings.httpsPort): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
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

/** The suite `openssl s_client` negotiates over TLS 1.2 when it offers only `suite`: "(NONE)" when refused. */
async function negotiatedSuite(suite: string, port = settings.httpsPort): Promise<string> {
  // Asynchronous: the permissive server answers from this process's event loop.
  const client = execFile(
    "openssl",
    ["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_2", "-cipher", `${suite}:@SECLEVEL=0`],
    {
      encoding: "utf8",
      timeout: 10_000,
    },
  );
  client.child.stdin?.end();
  const { stdout } = await client.catch((error: { stdout: string }) => error);
  return stdout.match(/Cipher is (\S+)/)?.[1] ?? "(no answer)";
}

describe("TLS", () => {
  it("refuses TLS 1.0 and 1.1, which this client offers (a permissive server accepts them)", async () => {
    for (const version of ["TLSv1", "TLSv1.1"] as const) {
      expect(await handshake(version, permissivePort)).toBe(version);
      expect(await handshake(version)).toMatch(/^refused/);
    }
  });

  it("speaks TLS 1.2 and 1.3", async () => {
    expect(await handshake("TLSv1.2")).toBe("TLSv1.2");
    expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
  });

  it.each(["AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"])(
    "refuses the TLS 1.2 suite %s (no forward secrecy or no AEAD), which a permissive server accepts",
    async (suite) => {
      expect(await negotiatedSuite(suite, permissivePort)).toBe(suite);
      expect(await negotiatedSuite(suite)).toBe("(NONE)");
    },
  );

  it.each([
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
  ])("negotiates the TLS 1.2 suite %s (Mozilla intermediate)", async (suite) => {
    expect(await negotiatedSuite(suite)).toBe(suite);
  });

  it("presents a certificate that verifies against our CA file for localhost and 127.0.0.1", async () => {
    for (const servername of ["localhost", undefined]) {
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect(
          { host: "127.0.0.1", port: settings.httpsPort, servername, ca },
          () => {
            resolve(socket.authorized);
            socket.destroy();
          },
        );
        socket.once("error", reject);
      });
      expect(authorized).toBe(true);
    }
  });
});

describe("the repository", () => {
  const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);

  it("tracks no private key, certificate, credentials or secrets file", () => {
    expect(
      tracked.filter((f) =>
        /\.(key|pem|crt)$|^\.secrets\/|^\.dev\.vars$|credentials\.env$/.test(f),
      ),
    ).toEqual([]);
    // git grep exits 1 when nothing matches: that is the pass.
    const withKeys = spawnSync(
      "git",
      ["grep", "-l", "-e", "-----BEGIN [A-Z ]*PRIVATE KEY-----", "--", "."],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(withKeys.stdout).toBe("");
  });

  it("tracks no password hash", () => {
    const hashes = tracked.filter(
      (f) =>
        !f.endsWith(".test.ts") &&
        /pbkdf2-sha256\$\d+\$[A-Za-z0-9+/=]{8,}\$/.test(readFileSync(`${ROOT}/${f}`, "latin1")),
    );
    expect(hashes).toEqual([]);
  });
});
