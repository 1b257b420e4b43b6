/** Classification figures: accuracy, per-class precision/recall/F1, macro and weighted F1. */

export interface ClassReport {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  accuracy: number;
  macro_f1: number;
  weighted_f1: number;
  per_class: Record<string, ClassReport>;
  /** confusion_matrix[true][predicted], rows and columns in label order. */
  confusion_matrix: number[][];
}

/** Same definitions as scikit-learn's classification_report (a class never predicted has precision 0). */
export function evaluate(
  labels: readonly string[],
  truth: number[],
  predicted: number[],
): Evaluation {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  truth.forEach((t, i) => {
    confusion[t]![predicted[i]!]!++;
  });
  let correct = 0;
  let macro = 0;
  let weighted = 0;
  const perClass: Record<string, ClassReport> = {};
  labels.forEach((label, c) => {
    const tp = confusion[c]![c]!;
    correct += tp;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedCount ? tp / predictedCount : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[label] = { precision, recall, f1, support };
    macro += f1 / k;
    weighted += (f1 * support) / truth.length;
  });
  return {
    accuracy: correct / truth.length,
    macro_f1: macro,
    weighted_f1: weighted,
    per_class: perClass,
    confusion_matrix: confusion,
  };
}
