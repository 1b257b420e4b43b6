/**
 * FNV-1a over the text, then murmur3's 32-bit finaliser: the same text gives the same number in
 * every isolate, process and release, cheaply and synchronously (crypto.subtle is async and far
 * slower for a few bytes). The finaliser spreads keys that differ in one character (user-1,
 * user-2) over the whole range, which FNV-1a alone leaves clustered in its low digits. For
 * spreading keys evenly, not for secrecy: a client that picks its key can pick its bucket.
 */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
