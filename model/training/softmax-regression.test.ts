import { describe, expect, it } from "vitest";
import { objective, toSparseRows, trainSoftmaxRegression } from "./softmax-regression.ts";

/** Three classes, each marked by its own feature plus shared noise features: separable. */
function syntheticData(rowCount: number) {
  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const rows = [];
  const labels = [];
  for (let r = 0; r < rowCount; r++) {
    const label = r % 3;
    const noise = 3 + Math.floor(random() * 5);
    rows.push({ ids: [label, noise], values: [1, random()] });
    labels.push(label);
  }
  return { X: toSparseRows(rows, 8), y: Int32Array.from(labels) };
}

describe("objective", () => {
  it("has the gradient that finite differences give", () => {
    const { X, y } = syntheticData(30);
    const params = Float64Array.from({ length: 8 * 3 + 3 }, (_, i) => Math.sin(i) / 3);
    const gradient = new Float64Array(params.length);
    objective(params, gradient, X, y, 3, 0.5);
    const scratch = new Float64Array(params.length);
    for (let i = 0; i < params.length; i++) {
      const h = 1e-6;
      const up = Float64Array.from(params);
      const down = Float64Array.from(params);
      up[i]! += h;
      down[i]! -= h;
      const numeric =
        (objective(up, scratch, X, y, 3, 0.5) - objective(down, scratch, X, y, 3, 0.5)) / (2 * h);
      expect(gradient[i]).toBeCloseTo(numeric, 6);
    }
  });
});

describe("trainSoftmaxRegression", () => {
  const options = { classCount: 3, C: 100, maxIterations: 200, gradientTolerance: 1e-6 };

  it("learns a separable synthetic data set to 100% training accuracy", () => {
    const { X, y } = syntheticData(90);
    const { model } = trainSoftmaxRegression(X, y, options);
    for (let r = 0; r < X.rowCount; r++) {
      const logits = Array.from(model.bias);
      for (let e = X.rowStart[r]!; e < X.rowStart[r + 1]!; e++) {
        for (let c = 0; c < 3; c++)
          logits[c]! += X.values[e]! * model.weights[X.indices[e]! * 3 + c]!;
      }
      expect(logits.indexOf(Math.max(...logits))).toBe(y[r]);
    }
  });

  it("gives bit-identical weights when run twice on the same data", () => {
    const { X, y } = syntheticData(60);
    const first = trainSoftmaxRegression(X, y, options).model;
    const second = trainSoftmaxRegression(X, y, options).model;
    expect(Buffer.from(second.weights.buffer).equals(Buffer.from(first.weights.buffer))).toBe(true);
    expect(Array.from(second.bias)).toEqual(Array.from(first.bias));
  });
});
