/**
 * Runs `call` with a signal that aborts (as a TimeoutError) after `ms`, and clears that timer as
 * soon as the call settles. AbortSignal.timeout() keeps its timer, and with it the finished
 * request's context, alive for the whole delay: under load the gateway's memory grew by hundreds
 * of MB (measured: 72 -> 375 MB over 44k requests).
 */
export async function withTimeout<T>(
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError")),
    ms,
  );
  try {
    return await call(controller.signal);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * `promise`'s outcome, or a TimeoutError after `ms`, for a call that takes no signal (an RPC to
 * a Durable Object). The call itself goes on; whoever awaited it has moved on.
 */
export async function withDeadline<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DOMException(`no answer within ${ms} ms`, "TimeoutError")),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
