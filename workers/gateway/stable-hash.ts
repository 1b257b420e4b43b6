/**
 * FNV-1a, 32 bits: the same text gives the same number in every isolate, process and release,
 * cheaply and synchronously (crypto.subtle is async and far slower for a few bytes). For spreading
 * keys evenly, not for secrecy: a client that picks its key can pick its bucket.
 */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
