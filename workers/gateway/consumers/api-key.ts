/**
 * API keys, in the shape GitHub gave its tokens: a prefix that says what the string is (secret
 * scanners and people both recognise it), 32 base62 characters of randomness (190 bits), and a
 * CRC32 of the two in 6 base62 characters. The checksum lets a mistyped or made-up key be refused
 * before any lookup; only the key's SHA-256 is stored, so a copy of the store lets no one in.
 *
 *   fek_<32 random base62><6 base62 CRC32>
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import CRC32 from "crc-32";

export const API_KEY_PREFIX = "fek_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_CHARS = 32;
const CHECKSUM_CHARS = 6;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + RANDOM_CHARS + CHECKSUM_CHARS;
const WELL_FORMED = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);

/** A 32-bit number in exactly CHECKSUM_CHARS base62 characters (62^6 > 2^32). */
function checksumOf(body: string): string {
  let n = CRC32.str(body) >>> 0;
  let text = "";
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    text = ALPHABET[n % 62] + text;
    n = Math.floor(n / 62);
  }
  return text;
}

/** `length` uniform base62 characters: bytes of 248 and above (4 × 62) are drawn again. */
export function randomBase62(length: number): string {
  let text = "";
  while (text.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      if (byte < 248 && text.length < length) text += ALPHABET[byte % 62];
    }
  }
  return text;
}

export function newApiKey(): string {
  const body = API_KEY_PREFIX + randomBase62(RANDOM_CHARS);
  return body + checksumOf(body);
}

/** Whether `text` has a key's shape and its checksum holds: no lookup, no hash. */
export function isWellFormedApiKey(text: string): boolean {
  return (
    text.length === API_KEY_LENGTH &&
    WELL_FORMED.test(text) &&
    checksumOf(text.slice(0, -CHECKSUM_CHARS)) === text.slice(-CHECKSUM_CHARS)
  );
}

/** What the store keeps of a key, and what a presented key is looked up by. */
export const apiKeyHash = (key: string): string => bytesToHex(sha256(utf8ToBytes(key)));
