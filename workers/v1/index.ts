/** v1, the stable variant: its body is exactly {"prediction value": label}, as the exam stack's (its workers/manifest.ts entry). */
import { createInferenceWorker } from "../shared/inference/inference-worker.ts";
import { selectedModel } from "./selected-model.ts";

const worker = createInferenceWorker("v1", selectedModel);

export default worker.api;
/** /health and /metrics only: the entrypoint of the ops port. */
export const Ops = worker.Ops;
