/**
 * The names of the ONNX graph's inputs and output: what the trainer writes (training/onnx-export.ts)
 * and inference feeds. Their own module so that serving needs no ONNX writer (protobufjs).
 */
export const INPUT_IDS = "feature_ids";
export const INPUT_VALUES = "feature_values";
export const OUTPUT = "probabilities";
