/**
 * Multinomial logistic regression on sparse rows, trained with L-BFGS.
 *
 * Written here rather than taken from npm: the JavaScript ML libraries we found (ml-logistic-regression,
 * ml-optimize-*) work on dense matrices and one-vs-rest, which for 32k rows x ~50k features would need
 * gigabytes and give a different model than the multinomial one we compare with scikit-learn's.
 * The objective is scikit-learn's: C * sum of cross-entropies + ||W||^2 / 2 (the bias is not
 * penalised), divided by the row count so that the scale does not depend on the data size.
 */

/** Rows in compressed sparse row form. */
export interface SparseRows {
  rowCount: number;
  columnCount: number;
  /** Row r's entries are indices/values[rowStart[r] .. rowStart[r+1]). */
  rowStart: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

export interface SoftmaxModel {
  classCount: number;
  featureCount: number;
  /** Row-major [featureCount][classCount]. */
  weights: Float64Array;
  bias: Float64Array;
}

export interface TrainOptions {
  classCount: number;
  /** Inverse regularisation strength, as scikit-learn's LogisticRegression(C). */
  C: number;
  maxIterations: number;
  /** Stop when the gradient's largest component falls below this. */
  gradientTolerance: number;
  /** L-BFGS memory: how many past steps shape the search direction. */
  memory?: number;
}

export interface TrainResult {
  model: SoftmaxModel;
  iterations: number;
  loss: number;
}

/** Builds SparseRows from per-row (ids, values) pairs. */
export function toSparseRows(
  rows: { ids: ArrayLike<number>; values: ArrayLike<number> }[],
  columnCount: number,
): SparseRows {
  const rowStart = new Int32Array(rows.length + 1);
  rows.forEach((row, r) => {
    rowStart[r + 1] = rowStart[r]! + row.ids.length;
  });
  const indices = new Int32Array(rowStart[rows.length]!);
  const values = new Float64Array(rowStart[rows.length]!);
  rows.forEach((row, r) => {
    indices.set(row.ids, rowStart[r]);
    values.set(row.values, rowStart[r]);
  });
  return { rowCount: rows.length, columnCount, rowStart, indices, values };
}

/** Softmax of `logits` in place, numerically stable. */
export function softmaxInPlace(logits: Float64Array): void {
  let max = -Infinity;
  for (const z of logits) max = Math.max(max, z);
  let sum = 0;
  for (let c = 0; c < logits.length; c++) sum += logits[c] = Math.exp(logits[c]! - max);
  for (let c = 0; c < logits.length; c++) logits[c]! /= sum;
}

/**
 * The objective at `params` ([weights..., bias...]); writes its gradient into `gradient`.
 * Exported so that a test can compare it with finite differences.
 */
export function objective(
  params: Float64Array,
  gradient: Float64Array,
  X: SparseRows,
  y: Int32Array,
  classCount: number,
  C: number,
): number {
  const k = classCount;
  const { rowStart, indices, values, columnCount } = X;
  const biasOffset = columnCount * k;
  const n = X.rowCount;
  gradient.fill(0);
  const p = new Float64Array(k);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) p[c] = params[biasOffset + c]!;
    const start = rowStart[r]!;
    const end = rowStart[r + 1]!;
    for (let e = start; e < end; e++) {
      const base = indices[e]! * k;
      const v = values[e]!;
      for (let c = 0; c < k; c++) p[c] = p[c]! + v * params[base + c]!;
    }
    softmaxInPlace(p);
    const label = y[r]!;
    loss -= Math.log(Math.max(p[label]!, 1e-300));
    p[label] = p[label]! - 1;
    for (let c = 0; c < k; c++) {
      p[c] = p[c]! / n;
      gradient[biasOffset + c] = gradient[biasOffset + c]! + p[c]!;
    }
    for (let e = start; e < end; e++) {
      const base = indices[e]! * k;
      const v = values[e]!;
      for (let c = 0; c < k; c++) gradient[base + c] = gradient[base + c]! + v * p[c]!;
    }
  }
  const lambda = 1 / (C * n);
  let penalty = 0;
  for (let i = 0; i < biasOffset; i++) {
    penalty += params[i]! * params[i]!;
    gradient[i]! += lambda * params[i]!;
  }
  return loss / n + (lambda / 2) * penalty;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * Minimises `f` from zero with L-BFGS (two-loop recursion) and a backtracking Armijo line search.
 * Deterministic: same inputs, same arithmetic order, same result to the bit.
 */
export function minimizeLbfgs(
  f: (x: Float64Array, gradient: Float64Array) => number,
  dimension: number,
  options: { maxIterations: number; gradientTolerance: number; memory: number },
): { x: Float64Array; value: number; iterations: number } {
  let x = new Float64Array(dimension);
  let g = new Float64Array(dimension);
  let fx = f(x, g);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const alpha = new Array<number>(options.memory);
  const direction = new Float64Array(dimension);
  let iteration = 0;
  for (; iteration < options.maxIterations && maxAbs(g) > options.gradientTolerance; iteration++) {
    // direction = -H g, H the L-BFGS inverse-Hessian estimate
    for (let i = 0; i < dimension; i++) direction[i] = -g[i]!;
    for (let m = sHistory.length - 1; m >= 0; m--) {
      alpha[m] = rhoHistory[m]! * dot(sHistory[m]!, direction);
      const ym = yHistory[m]!;
      for (let i = 0; i < dimension; i++) direction[i]! -= alpha[m]! * ym[i]!;
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      const gamma = dot(sHistory[last]!, yHistory[last]!) / dot(yHistory[last]!, yHistory[last]!);
      for (let i = 0; i < dimension; i++) direction[i]! *= gamma;
    }
    for (let m = 0; m < sHistory.length; m++) {
      const beta = rhoHistory[m]! * dot(yHistory[m]!, direction);
      const sm = sHistory[m]!;
      for (let i = 0; i < dimension; i++) direction[i]! += (alpha[m]! - beta) * sm[i]!;
    }
    let slope = dot(g, direction);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      sHistory.length = yHistory.length = rhoHistory.length = 0;
      for (let i = 0; i < dimension; i++) direction[i] = -g[i]!;
      slope = dot(g, direction);
    }
    let step = sHistory.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    const xNew = new Float64Array(dimension);
    const gNew = new Float64Array(dimension);
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++, step /= 2) {
      for (let i = 0; i < dimension; i++) xNew[i] = x[i]! + step * direction[i]!;
      fNew = f(xNew, gNew);
      if (fNew <= fx + 1e-4 * step * slope) break;
    }
    if (!(fNew < fx)) break; // no progress possible at this precision
    const s = new Float64Array(dimension);
    const yv = new Float64Array(dimension);
    for (let i = 0; i < dimension; i++) {
      s[i] = xNew[i]! - x[i]!;
      yv[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      if (sHistory.length === options.memory) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
      sHistory.push(s);
      yHistory.push(yv);
      rhoHistory.push(1 / sy);
    }
    x = xNew;
    g = gNew;
    fx = fNew;
  }
  return { x, value: fx, iterations: iteration };
}

export function trainSoftmaxRegression(
  X: SparseRows,
  y: Int32Array,
  options: TrainOptions,
): TrainResult {
  const k = options.classCount;
  const weightCount = X.columnCount * k;
  const result = minimizeLbfgs(
    (params, gradient) => objective(params, gradient, X, y, k, options.C),
    weightCount + k,
    {
      maxIterations: options.maxIterations,
      gradientTolerance: options.gradientTolerance,
      memory: options.memory ?? 10,
    },
  );
  return {
    model: {
      classCount: k,
      featureCount: X.columnCount,
      weights: result.x.slice(0, weightCount),
      bias: result.x.slice(weightCount),
    },
    iterations: result.iterations,
    loss: result.value,
  };
}
