/** The request id every response carries (X-Request-Id), passed from the gateway to v1/v2. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/** A client's request id is kept when it matches this (nginx's config is rendered with it too). */
export const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The client's id when it is a sane token, else a fresh one: a client cannot inject into our logs. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && SANE_REQUEST_ID.test(header) ? header : crypto.randomUUID();
}
