/**
 * What every variant's worker is: two entrypoints on itty-router, the classifier loaded once per
 * isolate, and their metrics. Its manifest entry (workers/manifest.ts) says how a prediction is
 * rendered.
 * - `api` (the default export): POST /predict and GET /health for the gateway's probe. Reached
 *   only through the gateway (its service binding on Cloudflare, its variant's nginx pool or a unix socket
 *   here), which owns the HTTP concerns: full validation, the request id, the response's headers.
 *   This side reads the body cheaply (size, JSON, a string sentence) and answers JSON.
 * - `Ops` (a named entrypoint): GET /health and GET /metrics only, for Prometheus and the
 *   supervisor. Nothing on it can make a prediction, so its port bypasses no check.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { Router } from "itty-router";
import { LABELS } from "../../../model/serving/labels.ts";
import { ModelUnavailableError, type ModelInfo } from "../../../model/serving/inference.ts";
import { MANIFEST, type Variant } from "../../manifest.ts";
import { classifierOf, type SelectedModel } from "./classifier.ts";
import { createRegistry, LATENCY_BUCKETS, metricsResponse } from "../http/metrics.ts";
import {
  LABEL_HEADER,
  MODEL_VERSION_HEADER,
  PAYLOADS,
  plainPayload,
  ROUTE_HEADER,
  ROUTES,
  routeOfHeader,
  sentenceOf,
  wantsPlainPayload,
} from "./prediction-contract.ts";
import { problemResponse } from "../http/problem.ts";
import { REQUEST_ID_HEADER } from "../http/request-id.ts";

export interface InferenceEnv {
  /** Which process answered, reported by v2; set per replica by the local stack. */
  REPLICA?: string;
}

export function createInferenceWorker(variant: Variant, selected: SelectedModel) {
  const render = PAYLOADS[MANIFEST[variant].payload];
  const classifier = classifierOf(selected);
  const registry = createRegistry();
  const predictions = registry.counter(
    "fortress_predictions_total",
    "Predictions made, by variant, model version, route (how the request reached the variant) and label",
  );
  const inferenceSeconds = registry.histogram(
    "fortress_inference_duration_seconds",
    "Featurize + ONNX run per prediction, by the runtime clock (workerd advances it only at I/O)",
    LATENCY_BUCKETS,
  );
  const modelInfo = registry.gauge(
    "fortress_model_info",
    "The model this process serves (always 1)",
  );
  const modelLoadSeconds = registry.gauge(
    "fortress_model_load_seconds",
    "Seconds the model took to load",
  );
  for (const route of ROUTES)
    for (const label of LABELS)
      predictions.add(0, { variant, model: selected.version, route, label });

  let modelReported: Promise<ModelInfo> | undefined;
  /** The model, loaded on first use; its gauges are set once, when it has loaded. */
  function loadedModel(): Promise<ModelInfo> {
    modelReported ??= classifier.info().then((info) => {
      modelInfo.set(1, { variant, version: info.version, sha256: info.sha256 });
      modelLoadSeconds.set(info.loadSeconds);
      return info;
    });
    return modelReported;
  }

  async function predict(request: Request, env: InferenceEnv): Promise<Response> {
    const sentence = sentenceOf(await request.arrayBuffer());
    if (typeof sentence !== "string") return problemResponse(sentence);
    const model = await loadedModel();
    const started = performance.now();
    const { label, probabilities } = await classifier.classify(sentence);
    const inferenceMs = performance.now() - started;
    const route = routeOfHeader(request.headers.get(ROUTE_HEADER));
    predictions.inc({ variant, model: selected.version, route, label });
    inferenceSeconds.observe(inferenceMs / 1000);
    const replica = env.REPLICA ?? variant;
    const requestId = request.headers.get(REQUEST_ID_HEADER) ?? "";
    const body =
      route !== "direct" && wantsPlainPayload(route)
        ? plainPayload(label)
        : render({ label, probabilities, model, inferenceMs, replica, requestId });
    return Response.json(body, {
      headers: { [MODEL_VERSION_HEADER]: model.version, [LABEL_HEADER]: label },
    });
  }

  async function health(_request: Request, env: InferenceEnv): Promise<Response> {
    const model = await loadedModel();
    return Response.json({
      status: "ok",
      variant,
      replica: env.REPLICA ?? variant,
      model: { sha256: model.sha256, version: model.version },
    });
  }

  const notFound = (request: Request) =>
    problemResponse({ status: 404, detail: `no route for ${new URL(request.url).pathname}` });
  const failed = (error: unknown) =>
    error instanceof ModelUnavailableError
      ? problemResponse({ status: 503, detail: error.message }, { "Retry-After": "30" })
      : problemResponse({ status: 500, detail: "the inference worker failed; see its log" });

  const api = Router({ catch: failed })
    .post("/predict", predict)
    .get("/health", health)
    .all("/predict", () =>
      problemResponse({ status: 405, detail: "use POST /predict" }, { Allow: "POST" }),
    )
    .all("*", notFound);

  const ops = Router({ catch: failed })
    .get("/health", health)
    .get("/metrics", () => metricsResponse(registry))
    .all("*", notFound);

  return {
    api: { fetch: api.fetch } satisfies ExportedHandler<InferenceEnv>,
    Ops: class Ops extends WorkerEntrypoint<InferenceEnv> {
      override fetch(request: Request): Promise<Response> {
        return ops.fetch(request, this.env);
      }
    },
  };
}
