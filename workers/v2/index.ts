/** v2, the candidate: the plain body plus every probability, the model's identity and timing (its workers/manifest.ts entry). */
import { createInferenceWorker } from "../shared/inference/inference-worker.ts";
import { selectedModel } from "./selected-model.ts";

const worker = createInferenceWorker("v2", selectedModel);

export default worker.api;
/** /health and /metrics only: the entrypoint of the ops port. */
export const Ops = worker.Ops;
