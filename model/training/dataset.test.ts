import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { DATA_DIR, dataPaths, parseDataset, readDataset, selectSplit } from "./dataset.ts";
import { VERSIONS_DIR } from "./train.ts";

describe("parseDataset", () => {
  const csv = [
    "tweet_id,sentiment,content",
    '1,love,"I love you, really"',
    '2,worry,"He said ""no"" &amp; left"',
    "3,neutral,0",
    "4,fun,plain text &lt;3",
  ].join("\n");

  it("reads quoted fields with commas and escaped quotes", () => {
    const rows = parseDataset(csv);
    expect(rows[0]).toEqual({ id: "1", label: "love", text: "I love you, really" });
    expect(rows[1]!.text).toBe('He said "no" &amp; left');
  });
  it('keeps the text "0" as a string', () => {
    expect(parseDataset(csv)[2]!.text).toBe("0");
  });
  it("leaves HTML entities for the featurizer", () => {
    expect(parseDataset(csv)[3]!.text).toBe("plain text &lt;3");
  });
  it("refuses an unknown label, naming the row", () => {
    expect(() => parseDataset("tweet_id,sentiment,content\n1,joy,hi")).toThrow(
      /row 2: unknown label "joy"/,
    );
  });
});

describe("readDataset", () => {
  it("names the missing path and where the data comes from", () => {
    expect(() => readDataset("/nonexistent/tweets.csv")).toThrow(
      /\/nonexistent\/tweets\.csv.*model\/data.*DATA_PATH/,
    );
  });
});

describe("the repository's copy of the data set (model/data)", () => {
  const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
  /** The checksum table of model/data/README.md: file -> sha256. */
  const documented = Object.fromEntries(
    [
      ...readFileSync(join(DATA_DIR, "README.md"), "utf8").matchAll(
        /^\| ([\w./]+) \| `([0-9a-f]{64})` \|$/gm,
      ),
    ].map((m) => [m[1]!, m[2]!]),
  );
  const { dataPath, trainIds, testIds } = dataPaths({});

  it("is the default, whatever the working folder", () => {
    expect(dataPath).toBe(join(DATA_DIR, "tweet_emotions.csv"));
  });
  it("has exactly the checksums its README lists, for the data set and both split files", () => {
    const files = [dataPath, trainIds, testIds].map((path) => relative(DATA_DIR, path));
    expect(Object.keys(documented).sort()).toEqual([...files].sort());
    for (const file of files) expect(sha256(join(DATA_DIR, file)), file).toBe(documented[file]);
  });
  it("is the data every committed model version was trained on", () => {
    const { sha256: data } = readDataset(dataPath);
    for (const version of readdirSync(VERSIONS_DIR)) {
      expect(
        JSON.parse(readFileSync(join(VERSIONS_DIR, version, "metrics.json"), "utf8")).data_sha256,
        version,
      ).toBe(data);
    }
  });
  it("splits its 40,000 rows into 32,000 for training and 8,000 for testing, with no tweet in both", () => {
    const { examples } = readDataset(dataPath);
    const train = selectSplit(examples, trainIds);
    const test = selectSplit(examples, testIds);
    expect([examples.length, train.length, test.length]).toEqual([40_000, 32_000, 8_000]);
    const trainSet = new Set(train.map((e) => e.id));
    expect(test.filter((e) => trainSet.has(e.id))).toEqual([]);
  });
});
