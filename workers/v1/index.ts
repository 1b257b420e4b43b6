/** v1: the production variant. Its body is exactly {"prediction value": label}, as the exam stack's. */
import { createInferenceWorker } from "../shared/inference/inference-worker.ts";

const worker = createInferenceWorker("v1", ({ label }) => ({ "prediction value": label }));

export default worker.api;
/** /health and /metrics only: the entrypoint of the ops port. */
export const Ops = worker.Ops;
