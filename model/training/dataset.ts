/** Reads the tweet_emotions data set and its fixed train/test split (model/data/README.md). */
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/** The repository's copy of the data set and its split. */
export const DATA_DIR = fileURLToPath(new URL("../data", import.meta.url));

/** Where the data set and its split are: DATA_PATH, else the repository's copy; the split beside it. */
export function dataPaths(env: NodeJS.ProcessEnv = process.env): {
  dataPath: string;
  trainIds: string;
  testIds: string;
} {
  const dataPath = resolve(env.DATA_PATH ?? join(DATA_DIR, "tweet_emotions.csv"));
  const splitDir = join(dirname(dataPath), "split");
  return {
    dataPath,
    trainIds: join(splitDir, "train_ids.txt"),
    testIds: join(splitDir, "test_ids.txt"),
  };
}

export function readDataset(path: string): Dataset {
  if (!existsSync(path)) {
    throw new Error(
      `data set not found at ${path}: the repository keeps it in model/data (see its README.md); DATA_PATH names another copy`,
    );
  }
  const bytes = readFileSync(path);
  return {
    examples: parseDataset(bytes.toString("utf8")),
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
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
