import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../../shared/http/problem.ts";
import type { GatewayEnv } from "../../app-context.ts";
import type { Scope } from "../../consumers/consumer.ts";

/** Lets a signed-in request through if its credential has one of `scopes`; else a 403 problem. */
export function requireScope(...scopes: Scope[]): MiddlewareHandler<GatewayEnv> {
  if (scopes.length === 0) throw new Error("requireScope needs a scope");
  return async function requireScope(c, next) {
    const granted = c.get("signedIn").scopes;
    if (!scopes.some((scope) => granted.includes(scope)))
      throw new HTTPException(403, {
        res: problemResponse({
          status: 403,
          detail: `this credential may not call ${c.req.path}: it needs the scope ${scopes.join(" or ")} (it has ${granted.join(", ")})`,
        }),
      });
    return next();
  };
}
