import type { MiddlewareHandler } from "hono";
import { REQUEST_ID_HEADER, requestIdFrom } from "../../../shared/http/request-id.ts";
import type { GatewayEnv } from "../../app-context.ts";

/** Gives every request an id (the client's, when sane) and every response the X-Request-Id header. */
export function requestId(): MiddlewareHandler<GatewayEnv> {
  return async function requestId(c, next) {
    const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId", id);
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, id);
  };
}
