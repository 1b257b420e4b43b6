/** Reads the tweet_emotions data set and its fixed train/test split (../shared/data/README.md). */
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { parse } from "csv-parse/sync";
import { isLabel, type Label } from "../serving/labels.ts";

export interface Example {
  id: string;
  label: Label;
  text: string;
}

export interface Dataset {
  examples: Example[];
  sha256: string;
}

/**
 * Parses the CSV with a real CSV parser: quoted fields, commas and quotes inside a text, and texts
 * such as "0" that must stay strings. Every row must carry a known label.
 */
export function parseDataset(csv: string): Example[] {
  const rows: Record<string, string>[] = parse(csv, { columns: true, skip_empty_lines: true });
  return rows.map((row, i) => {
    const { tweet_id: id, sentiment: label, content: text } = row;
    if (id === undefined || label === undefined || text === undefined) {
      throw new Error(`row ${i + 2}: expected the columns tweet_id, sentiment, content`);
    }
    if (!isLabel(label)) throw new Error(`row ${i + 2}: unknown label ${JSON.stringify(label)}`);
    return { id, label, text };
  });
}

export const DATA_ORIGIN =
  "the CrowdFlower 'Emotion in Text' data set, kept in ../shared/data beside the checkout (see its README.md)";

export function readDataset(path: string): Dataset {
  if (!existsSync(path)) {
    throw new Error(`data set not found at ${path}: it is ${DATA_ORIGIN}; set DATA_PATH to use another copy`);
  }
  const bytes = readFileSync(path);
  return { examples: parseDataset(bytes.toString("utf8")), sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** Reads a split file (one tweet_id a line) and returns the examples it names, in the file's order. */
export function selectSplit(examples: Example[], idsPath: string): Example[] {
  if (!existsSync(idsPath)) throw new Error(`split file not found at ${idsPath}`);
  const byId = new Map(examples.map((e) => [e.id, e]));
  return readFileSync(idsPath, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((id) => {
      const example = byId.get(id);
      if (!example) throw new Error(`${idsPath}: tweet_id ${id} is not in the data set`);
      return example;
    });
}
