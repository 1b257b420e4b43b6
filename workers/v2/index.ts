/** v2: the debug variant. The v1 body plus every probability, the model's identity and timing. */
import { LABELS } from "../../model/serving/labels.ts";
import { createInferenceWorker } from "../shared/inference/inference-worker.ts";
import { selectedModel } from "./selected-model.ts";

const worker = createInferenceWorker("v2", selectedModel, ({ label, probabilities, model, inferenceMs, replica, requestId }) => ({
  "prediction value": label,
  prediction_proba_dict: Object.fromEntries(LABELS.map((l, i) => [l, probabilities[i]])),
  model: { sha256: model.sha256, version: model.version },
  inference_ms: inferenceMs,
  replica,
  request_id: requestId,
}));

export default worker.api;
/** /health and /metrics only: the entrypoint of the ops port. */
export const Ops = worker.Ops;
