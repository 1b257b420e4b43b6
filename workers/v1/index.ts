/** v1: the production variant. Its body is exactly {"prediction value": label}, as the exam stack's. */
import { createInferenceWorker } from "../shared/inference-worker.ts";

export default createInferenceWorker("v1", ({ label }) => ({ "prediction value": label }));
