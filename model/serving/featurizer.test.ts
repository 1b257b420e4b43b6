import { describe, expect, it } from "vitest";
import {
  FEATURIZER_FORMAT,
  Featurizer,
  forEachTerm,
  normalize,
  wordTokens,
  type FeaturizerData,
} from "./featurizer.ts";

describe("normalize", () => {
  it("decodes HTML entities, double-escaped ones too", () => {
    expect(normalize("Tom &amp; Jerry &quot;hi&quot; &lt;3 &#39;ok&#39; &amp;gt;")).toBe(
      `tom & jerry "hi" <3 'ok' >`,
    );
  });
  it("turns the mojibake ï¿½ and U+FFFD into an apostrophe", () => {
    expect(normalize("Don\u00ef\u00bf\u00bdt stop, can\uFFFDt")).toBe("don't stop, can't");
  });
  it("replaces @mentions with @user", () => {
    expect(normalize("@tiffanylue i know @Bob_2")).toBe("@user i know @user");
  });
  it("replaces URLs with url", () => {
    expect(normalize("see http://bit.ly/abc?x=1 and www.example.com/x now")).toBe(
      "see url and url now",
    );
  });
  it("folds characters repeated for emphasis to two", () => {
    expect(normalize("Soooooo goooood!!!!!")).toBe("soo good!!");
  });
  it("lowercases and collapses white space, tabs and NBSP included", () => {
    expect(normalize("  Two\tWords\u00a0 HERE  ")).toBe("two words here");
  });
});

describe("wordTokens", () => {
  it("keeps inner apostrophes, @user and runs of ! and ?", () => {
    expect(wordTokens("don't @user go!! why?")).toEqual(["don't", "@user", "go", "!!", "why", "?"]);
  });
});

describe("forEachTerm", () => {
  const settings = { wordNgramRange: [1, 2], charNgramRange: [2, 5] } as const;
  const collect = (text: string) => {
    const words: string[] = [];
    const chars: string[] = [];
    forEachTerm(
      text,
      settings,
      (s, a, b) => words.push(s.slice(a, b)),
      (s, a, b) => chars.push(s.slice(a, b)),
    );
    return { words, chars };
  };
  it("gives word unigrams then bigrams", () => {
    expect(collect("I love it").words).toEqual(["i", "love", "it", "i love", "love it"]);
  });
  it("gives character n-grams inside space-padded words only", () => {
    expect(collect("hi yo").chars).toEqual([
      " h",
      "hi",
      "i ",
      " hi",
      "hi ",
      " hi ",
      " y",
      "yo",
      "o ",
      " yo",
      "yo ",
      " yo ",
    ]);
  });
});

describe("Featurizer", () => {
  const data: FeaturizerData = {
    format: FEATURIZER_FORMAT,
    settings: { wordNgramRange: [1, 1], charNgramRange: [2, 2] },
    words: ["love", "hate"],
    wordIdf: [1, 2],
    chars: [" l", "lo"],
    charIdf: [1, 1],
  };
  const featurizer = new Featurizer(data);

  it("weighs sublinear tf times idf and scales each block to unit length", () => {
    const { ids, values } = featurizer.featurize("love love hate");
    expect(Array.from(ids)).toEqual([0, 1, 2, 3]);
    const love = 1 + Math.log(2);
    const hate = 2;
    const norm = Math.hypot(love, hate);
    expect(values[0]).toBeCloseTo(love / norm, 6);
    expect(values[1]).toBeCloseTo(hate / norm, 6);
    expect(values[2]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(values[3]).toBeCloseTo(Math.SQRT1_2, 6);
  });
  it("gives one zero-weight entry for a text with no known term", () => {
    const { ids, values } = featurizer.featurize("zzz");
    expect(Array.from(ids)).toEqual([0]);
    expect(Array.from(values)).toEqual([0]);
  });
  it("gives the same vector when called again (no state leaks between calls)", () => {
    const first = featurizer.featurize("love hate love");
    featurizer.featurize("hate hate hate");
    expect(featurizer.featurize("love hate love")).toEqual(first);
  });
  it("refuses data of another format", () => {
    expect(
      () => new Featurizer({ ...data, format: "other/9" as typeof FEATURIZER_FORMAT }),
    ).toThrow(/format/);
  });
});
