import { describe, expect, it } from "vitest";
import { parseDataset, readDataset } from "./dataset.ts";

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
    expect(() => parseDataset("tweet_id,sentiment,content\n1,joy,hi")).toThrow(/row 2: unknown label "joy"/);
  });
});

describe("readDataset", () => {
  it("names the missing path and where the data comes from", () => {
    expect(() => readDataset("/nonexistent/tweets.csv")).toThrow(/\/nonexistent\/tweets\.csv.*shared\/data.*DATA_PATH/);
  });
});
