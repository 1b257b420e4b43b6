/**
 * The one featurizer: text normalisation, tokenization and TF-IDF weighting, imported by the
 * trainer and by the inference code alike, so what the model was trained on and what it is served
 * cannot drift apart. It runs unchanged in Node and in workerd (no Node or DOM APIs).
 *
 * Features are two blocks, each TF-IDF weighted (sublinear tf, smoothed idf) and L2-normalised on
 * its own, as scikit-learn's FeatureUnion of two TfidfVectorizers would give:
 *   - word n-grams (ids 0 .. words.length-1),
 *   - character n-grams inside word boundaries, "char_wb" (ids words.length .. size-1).
 */

export const FEATURIZER_FORMAT = "fortress-featurizer/1";

export interface FeaturizerSettings {
  /** Smallest and largest word n-gram, inclusive. */
  wordNgramRange: readonly [number, number];
  /** Smallest and largest character n-gram, inclusive; each word is padded with one space each side. */
  charNgramRange: readonly [number, number];
}

/** The versioned file (model/featurizer.json) the trainer writes and the workers import. */
export interface FeaturizerData {
  format: typeof FEATURIZER_FORMAT;
  settings: FeaturizerSettings;
  /** Word n-gram vocabulary; a term's feature id is its position. */
  words: string[];
  wordIdf: number[];
  /** Character n-gram vocabulary; a term's feature id is words.length + its position. */
  chars: string[];
  charIdf: number[];
}

/** A sparse feature vector: parallel arrays of feature ids and their weights. */
export interface SparseFeatures {
  ids: Int32Array;
  values: Float32Array;
}

const HTML_ENTITIES: Record<string, string> = {
  amp: "&",
  quot: '"',
  lt: "<",
  gt: ">",
  apos: "'",
  nbsp: " ",
};

function decodeEntity(entity: string, body: string): string {
  if (body[0] === "#") {
    const code =
      body[1] === "x" || body[1] === "X"
        ? parseInt(body.slice(2), 16)
        : parseInt(body.slice(1), 10);
    return Number.isFinite(code) && code > 0 && code <= 0x10ffff
      ? String.fromCodePoint(code)
      : entity;
  }
  return HTML_ENTITIES[body.toLowerCase()] ?? entity;
}

/**
 * Normalises a raw tweet. Each rule answers something the data set holds (model/data/README.md):
 * HTML entities such as "&amp;" (decoded twice, as some are double-escaped), the mojibake "ï¿½" that
 * mostly stands where an apostrophe was, @mentions and URLs that carry no emotion of their own, and
 * characters repeated for emphasis ("soooo", "!!!!") folded to two so they share one feature.
 */
export function normalize(text: string): string {
  let s = text;
  for (let pass = 0; pass < 2 && s.includes("&"); pass++) {
    s = s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, decodeEntity);
  }
  return s
    .replace(/ï¿½|\uFFFD/g, "'")
    .replace(/Â/g, "")
    .toLowerCase()
    .replace(/\b(?:https?:\/\/|www\.)\S+/g, " url ")
    .replace(/@\w+/g, " @user ")
    .replace(/(.)\1{2,}/gu, "$1$1")
    .replace(/\s+/g, " ")
    .trim();
}

const WORD_TOKEN = /@user|[\p{L}\p{N}_]+(?:'[\p{L}\p{N}_]+)*|[!?]+/gu;

/** Word tokens of a normalised text: words (with inner apostrophes), "@user", runs of ! and ?. */
export function wordTokens(normalized: string): string[] {
  return normalized.match(WORD_TOKEN) ?? [];
}

/** Receives one term as the span [start, end) of `source`, so the hot path allocates no string per term. */
export type TermVisitor = (source: string, start: number, end: number) => void;

/**
 * Enumerates every word n-gram and every character n-gram of a raw text, the one definition of the
 * terms that the trainer counts and the server looks up. Character n-grams are taken inside each
 * word padded with one space each side (scikit-learn's "char_wb").
 */
export function forEachTerm(
  text: string,
  settings: FeaturizerSettings,
  onWord: TermVisitor,
  onChar: TermVisitor,
): void {
  const normalized = normalize(text);
  const tokens = wordTokens(normalized);
  const [wordMin, wordMax] = settings.wordNgramRange;
  for (let n = wordMin; n <= wordMax; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const gram = n === 1 ? tokens[i]! : tokens.slice(i, i + n).join(" ");
      onWord(gram, 0, gram.length);
    }
  }
  // Words are separated by single spaces, so " word " is a span of the padded text.
  const padded = ` ${normalized} `;
  const [charMin, charMax] = settings.charNgramRange;
  let wordStart = 1;
  while (wordStart < padded.length) {
    const wordEnd = padded.indexOf(" ", wordStart);
    const spanStart = wordStart - 1;
    const spanEnd = wordEnd + 1;
    for (let n = charMin; n <= charMax && n <= spanEnd - spanStart; n++) {
      for (let i = spanStart; i + n <= spanEnd; i++) onChar(padded, i, i + n);
    }
    wordStart = wordEnd + 1;
  }
}

/**
 * A term -> id table that looks a span up without slicing it out: open addressing on one 32-bit
 * FNV-1a hash, each slot holding a second, independent 32-bit hash and the id (with the term's
 * length in its low byte) side by side: 8 bytes a slot, at most half the slots used. Comparing the
 * strings themselves (or a Map<string, number>) chases pointers into the heap and made featurizing
 * 3-5x slower on this hardware; a table twice this size (12-byte slots, a quarter used) spent
 * most of a lookup on cache misses (the char table was 3 MB against a 512 KB L2).
 * Two spans are taken as the same term when both hashes and the length (mod 256) agree: a stray
 * n-gram is mistaken for a vocabulary term with a probability near 2^-64 per lookup, and the
 * trainer and the server share this table, so such a match would be the same in both.
 */
class TermTable {
  /** [check hash, (id + 1) << 8 | length & 0xff] per slot; 0 in the second marks an empty slot. */
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(terms: readonly string[], idOffset: number) {
    if (idOffset + terms.length >= 1 << 23)
      throw new Error("featurizer vocabulary too large for the term table (2^23 ids)");
    let capacity = 16;
    while (capacity < terms.length * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
    terms.forEach((term, index) => {
      if (term.length === 0) throw new Error("featurizer vocabulary holds an empty term");
      const [probe, check] = TermTable.hash(term, 0, term.length);
      const tag = term.length & 0xff;
      let slot = probe & this.mask;
      while (this.slots[slot * 2 + 1] !== 0) {
        if (this.slots[slot * 2] === check && (this.slots[slot * 2 + 1]! & 0xff) === tag) {
          throw new Error(
            `featurizer vocabulary: ${JSON.stringify(term)} collides with another term`,
          );
        }
        slot = (slot + 1) & this.mask;
      }
      this.slots[slot * 2] = check;
      this.slots[slot * 2 + 1] = ((idOffset + index + 1) << 8) | tag;
    });
  }

  private static hash(source: string, start: number, end: number): [number, number] {
    let probe = 0x811c9dc5;
    let check = 0x9747b28c;
    for (let i = start; i < end; i++) {
      const code = source.charCodeAt(i);
      probe = Math.imul(probe ^ code, 0x01000193);
      check = Math.imul(check ^ code, 0x5bd1e995);
      check ^= check >>> 15;
    }
    return [probe, check];
  }

  /** The feature id of source[start, end), or -1. */
  lookup(source: string, start: number, end: number): number {
    let probe = 0x811c9dc5;
    let check = 0x9747b28c;
    for (let i = start; i < end; i++) {
      const code = source.charCodeAt(i);
      probe = Math.imul(probe ^ code, 0x01000193);
      check = Math.imul(check ^ code, 0x5bd1e995);
      check ^= check >>> 15;
    }
    const tag = (end - start) & 0xff;
    const slots = this.slots;
    for (let slot = probe & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = slots[slot * 2 + 1]!;
      if (entry === 0) return -1;
      if ((entry & 0xff) === tag && slots[slot * 2] === check) return (entry >>> 8) - 1;
    }
  }
}

/** Smoothed inverse document frequency, as scikit-learn's `smooth_idf=True`. */
export function inverseDocumentFrequency(documentCount: number, documentFrequency: number): number {
  return Math.log((1 + documentCount) / (1 + documentFrequency)) + 1;
}

export class Featurizer {
  readonly data: FeaturizerData;
  readonly size: number;
  private readonly wordTable: TermTable;
  private readonly charTable: TermTable;
  // Scratch space reused by every call: featurize() is synchronous, so calls never interleave.
  private readonly counts: Uint16Array;
  private seen = new Int32Array(512);
  private seenCount = 0;
  private readonly countWord: TermVisitor;
  private readonly countChar: TermVisitor;

  constructor(data: FeaturizerData) {
    if (data.format !== FEATURIZER_FORMAT) {
      throw new Error(
        `featurizer data has format ${JSON.stringify(data.format)}, expected ${FEATURIZER_FORMAT}`,
      );
    }
    if (data.words.length !== data.wordIdf.length || data.chars.length !== data.charIdf.length) {
      throw new Error("featurizer data is inconsistent: each vocabulary needs one idf per term");
    }
    this.data = data;
    this.size = data.words.length + data.chars.length;
    this.wordTable = new TermTable(data.words, 0);
    this.charTable = new TermTable(data.chars, data.words.length);
    this.counts = new Uint16Array(this.size);
    this.countWord = (source, start, end) => this.count(this.wordTable.lookup(source, start, end));
    this.countChar = (source, start, end) => this.count(this.charTable.lookup(source, start, end));
  }

  private count(id: number): void {
    if (id < 0) return;
    if (this.counts[id] === 0) {
      if (this.seenCount === this.seen.length) {
        const grown = new Int32Array(this.seen.length * 2);
        grown.set(this.seen);
        this.seen = grown;
      }
      this.seen[this.seenCount++] = id;
    }
    if (this.counts[id]! < 0xffff) this.counts[id]!++;
  }

  /**
   * The TF-IDF vector of a text: ids in order of first occurrence, word block first. Never empty:
   * a text with no known term gives one zero-weight entry, so the model always gets a valid input.
   */
  featurize(text: string): SparseFeatures {
    this.seenCount = 0;
    forEachTerm(text, this.data.settings, this.countWord, this.countChar);
    const total = this.seenCount;
    if (total === 0) return { ids: new Int32Array(1), values: new Float32Array(1) };
    const ids = this.seen.slice(0, total);
    const values = new Float32Array(total);
    const firstChar = ids.findIndex((id) => id >= this.data.words.length);
    const split = firstChar === -1 ? total : firstChar;
    this.weighBlock(ids, values, 0, split, this.data.wordIdf, 0);
    this.weighBlock(ids, values, split, total, this.data.charIdf, this.data.words.length);
    for (const id of ids) this.counts[id] = 0;
    return { ids, values };
  }

  /** Sublinear tf times idf over ids[from, to), scaled to unit length. */
  private weighBlock(
    ids: Int32Array,
    values: Float32Array,
    from: number,
    to: number,
    idf: number[],
    idOffset: number,
  ): void {
    const weights = new Float64Array(to - from);
    let squares = 0;
    for (let i = from; i < to; i++) {
      const id = ids[i]!;
      const weight = (1 + Math.log(this.counts[id]!)) * idf[id - idOffset]!;
      weights[i - from] = weight;
      squares += weight * weight;
    }
    const scale = squares > 0 ? 1 / Math.sqrt(squares) : 0;
    for (let i = from; i < to; i++) values[i] = weights[i - from]! * scale;
  }
}
