/**
 * A model's version: the first 12 hex digits of the sha256 of its emotion.onnx followed by its
 * featurizer.json, the two files that make its predictions. Each version lives in
 * model/versions/<version>/ with its metrics.json and model card.
 */
export const VERSION_PATTERN = /^[0-9a-f]{12}$/;

export async function modelVersion(
  onnx: Uint8Array<ArrayBuffer>,
  featurizerJson: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const both = new Uint8Array(onnx.byteLength + featurizerJson.byteLength);
  both.set(onnx);
  both.set(featurizerJson, onnx.byteLength);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", both));
  return Array.from(digest.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}
