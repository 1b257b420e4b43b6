/** Helpers of the gateway's tests: requests that carry what nginx would set (the client IP header). */
import { workerUnderTest } from "../shared/testing/worker-under-test.ts";
import { env } from "cloudflare:workers";
import { consumerDirectory } from "./consumers/directory.ts";
import { TEST_PASSWORD, TEST_USER } from "./test-credentials.ts";

export { TEST_PASSWORD, TEST_USER };

export const basicAuthHeader = (user: string, password: string) =>
  `Basic ${btoa(`${user}:${password}`)}`;

let nextIp = 1;
/** A client IP no other test uses, so each test starts with a full rate-limit budget. */
export const freshIp = () => `192.0.2.${nextIp++}`;

export interface PredictOptions {
  ip?: string;
  authorization?: string | null;
  headers?: Record<string, string>;
  body?: string;
}

export function postPredict(sentence: unknown, options: PredictOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Real-IP": options.ip ?? freshIp(),
    ...options.headers,
  };
  const authorization =
    options.authorization === undefined
      ? basicAuthHeader(TEST_USER, TEST_PASSWORD)
      : options.authorization;
  if (authorization !== null) headers.Authorization = authorization;
  return workerUnderTest.fetch("http://gateway/predict", {
    method: "POST",
    headers,
    body: options.body ?? JSON.stringify({ sentence }),
  });
}

/** A registry object of the test's own (the worker's ConsumerRegistry, under a fresh name). */
export const freshRegistry = () =>
  env.CONSUMERS.get(env.CONSUMERS.idFromName(`test-${crypto.randomUUID()}`));

/**
 * A sign-in middleware's view of the consumers, as a gateway isolate has it: the directory over a
 * real registry (a fresh one unless given) and an API_USERS secret.
 */
export function directoryOver(
  registry: ReturnType<typeof freshRegistry> = freshRegistry(),
  apiUsers = "",
) {
  const directory = consumerDirectory({
    registry: { snapshot: (version, used) => registry.snapshot(version, used) },
    apiUsers,
    defaults: { rate: { ratePerSecond: 10, burst: 10 }, daily: 0 },
    deadlineMs: 5000,
  });
  return () => directory.view();
}

/** The consumers of an API_USERS secret, over a registry that holds none of its own. */
export const viewOfSecret = (apiUsers: string) => directoryOver(freshRegistry(), apiUsers);
