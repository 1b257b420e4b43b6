/** v1: the production variant. Its body is exactly {"prediction value": label}, as the exam stack's. */
import { createInferenceWorker } from "../shared/inference/inference-worker.ts";
import { plainPayload } from "../shared/inference/prediction-contract.ts";
import { selectedModel } from "./selected-model.ts";

const worker = createInferenceWorker("v1", selectedModel, ({ label }) => plainPayload(label));

export default worker.api;
/** /health and /metrics only: the entrypoint of the ops port. */
export const Ops = worker.Ops;
