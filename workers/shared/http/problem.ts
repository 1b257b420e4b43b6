/**
 * RFC 9457 problem details: every error of every worker is one of these, as
 * `application/problem+json`. `type` is about:blank (the status says it all) unless a problem
 * needs its own identity; `detail` says what to change.
 */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface Problem {
  status: number;
  detail: string;
  title?: string;
  type?: string;
  /** Extension members, e.g. the invalid fields of a 422. */
  [extension: string]: unknown;
}

/** Every status's title, for the workers and for nginx's own errors (its config is rendered from this). */
export const PROBLEM_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export function problemResponse(problem: Problem, headers: HeadersInit = {}): Response {
  const { status, detail, title, type, ...extensions } = problem;
  const body = {
    type: type ?? "about:blank",
    title: title ?? PROBLEM_TITLES[status] ?? "Error",
    status,
    detail,
    ...extensions,
  };
  const response = new Response(JSON.stringify(body), { status, headers });
  response.headers.set("Content-Type", PROBLEM_CONTENT_TYPE);
  return response;
}
