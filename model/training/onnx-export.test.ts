import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-web/wasm";
import { compileOrtWasm } from "./node-assets.ts";
import { decodeOnnx, encodeOnnx, forwardPass } from "./onnx-export.ts";
import { INPUT_IDS, INPUT_VALUES, OUTPUT } from "../serving/graph-names.ts";
import { useCompiledWasm } from "../serving/ort-wasm-module.ts";

const model = {
  classCount: 3,
  featureCount: 4,
  weights: Float64Array.from({ length: 12 }, (_, i) => (i % 5) - 2.25),
  bias: Float64Array.from([0.1, -0.2, 0.3]),
};
const labels = ["a", "b", "c"];

describe("encodeOnnx / decodeOnnx", () => {
  it("round-trips weights (as float32), bias, labels and metadata", () => {
    const decoded = decodeOnnx(encodeOnnx(model, labels, { featurizer_format: "x/1" }));
    expect(decoded.labels).toEqual(labels);
    expect(decoded.featureCount).toBe(4);
    expect(Array.from(decoded.weights)).toEqual(Array.from(Float32Array.from(model.weights)));
    expect(Array.from(decoded.bias)).toEqual(Array.from(Float32Array.from(model.bias)));
    expect(decoded.metadata.featurizer_format).toBe("x/1");
  });

  it("runs in onnxruntime-web and agrees with the TypeScript forward pass", async () => {
    const bytes = encodeOnnx(model, labels, {});
    useCompiledWasm(ort.env, await compileOrtWasm());
    const session = await ort.InferenceSession.create(bytes);
    const ids = Int32Array.from([3, 0, 3]);
    const values = Float32Array.from([0.5, -1.25, 0.25]);
    const out = await session.run({
      [INPUT_IDS]: new ort.Tensor("int32", ids, [3]),
      [INPUT_VALUES]: new ort.Tensor("float32", values, [1, 3]),
    });
    const expected = forwardPass(decodeOnnx(bytes), ids, values);
    const actual = out[OUTPUT]!.data as Float32Array;
    expect(actual.length).toBe(3);
    actual.forEach((p, c) => {
      expect(Math.abs(p - expected[c]!)).toBeLessThan(1e-6);
    });
  });
});
