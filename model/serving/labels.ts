/**
 * The 13 emotion labels in the order of the model's output vector. This order is part of the
 * model's contract: emotion.onnx's `probabilities` output is indexed by it, and its metadata
 * repeats it so a mismatched file is refused at load time.
 */
export const LABELS = [
  "anger",
  "boredom",
  "empty",
  "enthusiasm",
  "fun",
  "happiness",
  "hate",
  "love",
  "neutral",
  "relief",
  "sadness",
  "surprise",
  "worry",
] as const;

export type Label = (typeof LABELS)[number];

export function isLabel(value: string): value is Label {
  return (LABELS as readonly string[]).includes(value);
}
