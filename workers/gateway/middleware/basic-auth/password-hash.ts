/**
 * Salted password hashes for API_USERS: PBKDF2-SHA256 through WebCrypto, so the same code runs in
 * workerd and in Node (the CLI that makes an entry). Format: pbkdf2-sha256$ITERATIONS$SALT$HASH,
 * salt and hash in base64.
 */
import { constantTimeEqual } from "../../constant-time-equal.ts";
import { CONSUMER_NAME } from "../../consumers/consumer.ts";

/** workerd's WebCrypto refuses PBKDF2 above 100,000 iterations. */
export const PBKDF2_ITERATIONS = 100_000;
const SCHEME = "pbkdf2-sha256";
const HASH_BYTES = 32;

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(
  password: string,
  iterations = PBKDF2_ITERATIONS,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return [
    SCHEME,
    iterations,
    toBase64(salt),
    toBase64(await derive(password, salt, iterations)),
  ].join("$");
}

export interface StoredHash {
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
  hash: Uint8Array;
}

export function parseStoredHash(text: string): StoredHash {
  const [scheme, iterations, salt, hash] = text.split("$");
  const rounds = Number(iterations);
  if (
    scheme !== SCHEME ||
    !Number.isInteger(rounds) ||
    rounds < 1 ||
    rounds > PBKDF2_ITERATIONS ||
    !salt ||
    !hash
  ) {
    throw new Error(
      `not a ${SCHEME}$ITERATIONS$SALT$HASH entry (at most ${PBKDF2_ITERATIONS} iterations)`,
    );
  }
  return { iterations: rounds, salt: fromBase64(salt), hash: fromBase64(hash) };
}

export async function verifyPassword(password: string, stored: StoredHash): Promise<boolean> {
  return constantTimeEqual(await derive(password, stored.salt, stored.iterations), stored.hash);
}

/** Parses the API_USERS secret: one `user:hash` entry a line (or comma-separated), each user a consumer name. */
export function parseUsers(
  secret: string | undefined,
): Map<string, { encoded: string; hash: StoredHash }> {
  const users = new Map<string, { encoded: string; hash: StoredHash }>();
  for (const entry of (secret ?? "").split(/[\n,]/).map((e) => e.trim())) {
    if (entry === "") continue;
    const colon = entry.indexOf(":");
    const user = entry.slice(0, colon);
    if (colon < 1) throw new Error(`API_USERS: an entry has no "user:" prefix`);
    if (!CONSUMER_NAME.test(user))
      throw new Error(
        `API_USERS: ${JSON.stringify(user)} is not a consumer name (1-64 letters, digits, ".", "_" or "-")`,
      );
    const encoded = entry.slice(colon + 1);
    try {
      users.set(user, { encoded, hash: parseStoredHash(encoded) });
    } catch (error) {
      throw new Error(
        `API_USERS: the entry of ${JSON.stringify(user)} is ${(error as Error).message}`,
      );
    }
  }
  return users;
}
