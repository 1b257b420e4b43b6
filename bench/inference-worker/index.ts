/**
 * Benchmark-only worker: classifies the sentences it is sent (featurize + ONNX run) and reports
 * the time of each batch of BATCH sentences by the runtime's own clock, inside workerd. Batches,
 * because workerd's clock moves in whole milliseconds here: one sentence reads 0 or 1 ms.
 * Never deployed.
 */
import { classifierOf } from "../../workers/shared/inference/classifier.ts";
import { selectedModel } from "../../workers/v1/selected-model.ts";

/** v1's model, as make bench's stack serves it. */
const classifier = classifierOf(selectedModel);

const BATCH = 100;

export default {
  async fetch(request: Request): Promise<Response> {
    const sentences = await request.json<string[]>();
    await classifier.ready();
    const batchMs: number[] = [];
    for (let start = 0; start < sentences.length; start += BATCH) {
      const t0 = performance.now();
      for (const sentence of sentences.slice(start, start + BATCH))
        await classifier.classify(sentence);
      batchMs.push(performance.now() - t0);
    }
    return Response.json({ batch: BATCH, batchMs });
  },
} satisfies ExportedHandler;
