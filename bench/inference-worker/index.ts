/**
 * Benchmark-only worker: classifies the sentences it is sent, one by one, and reports the time of
 * each (featurize + ONNX run) by the runtime's own clock, inside workerd. Never deployed.
 */
import { classifier } from "../../workers/shared/classifier.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const sentences = await request.json<string[]>();
    await classifier.ready();
    const micros: number[] = [];
    const started = performance.now();
    for (const sentence of sentences) {
      const t0 = performance.now();
      await classifier.classify(sentence);
      micros.push((performance.now() - t0) * 1000);
    }
    const totalMs = performance.now() - started;
    return Response.json({ micros, totalMs });
  },
} satisfies ExportedHandler;
