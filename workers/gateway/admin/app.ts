/**
 * The management API of the consumers and of the rollout, served by the gateway's `Admin`
 * entrypoint only: locally on a unix socket that only the stack's user (and root) can open, never
 * on a public listener; on Cloudflare through a service binding (README, "Consumers"). Every change
 * names its operator (X-Operator), and the registry (or the rollout's history) records who did
 * what, when.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemResponse } from "../../shared/http/problem.ts";
import type { ConsumerRegistry } from "../consumers/consumer-registry.ts";
import { OPERATOR_HEADER, type AddRequest } from "./admin-api.ts";
import type { RolloutState } from "../rollout/rollout-state.ts";
import type { Rollout } from "../rollout/rollout-api.ts";

type Registry = () => DurableObjectStub<ConsumerRegistry>;
type Rollouts = () => DurableObjectStub<RolloutState>;

export function adminApp(registry: Registry, rollout: Rollouts) {
  const operatorOf = (header: string | undefined) => {
    if (!header?.trim())
      throw new HTTPException(400, {
        res: problemResponse({ status: 400, detail: `say who you are in ${OPERATOR_HEADER}` }),
      });
    return header.trim().slice(0, 200);
  };
  return (
    new Hono<{ Bindings: Env }>()
      .get("/consumers", async (c) => c.json(await registry().list()))
      .get("/audit", async (c) =>
        c.json(await registry().auditLog(Number(c.req.query("limit") ?? 1000))),
      )
      .post("/consumers", async (c) => {
        const operator = operatorOf(c.req.header(OPERATOR_HEADER));
        const body = await c.req.json<AddRequest>();
        const issued = await registry().addConsumer(
          operator,
          {
            name: body.name,
            limits: { ratePerSecond: body.ratePerSecond, burst: body.burst, daily: body.daily },
            expiresAt: body.expiresAt,
          },
          body.passwordHash !== undefined
            ? { passwordHash: body.passwordHash }
            : { scopes: body.scopes, expiresAt: body.expiresAt },
        );
        return c.json(
          issued ? { name: body.name, key: issued.key, key_id: issued.id } : { name: body.name },
          201,
        );
      })
      .post("/rotate/:subject", async (c) => {
        const operator = operatorOf(c.req.header(OPERATOR_HEADER));
        const { graceSeconds } = await c.req.json<{ graceSeconds: number }>();
        const { id, key } = await registry().rotate(operator, c.req.param("subject"), graceSeconds);
        return c.json({ key, key_id: id }, 201);
      })
      .post("/revoke/:subject", async (c) => {
        await registry().revoke(operatorOf(c.req.header(OPERATOR_HEADER)), c.req.param("subject"));
        return c.body(null, 204);
      })
      .get("/rollout", async (c) => c.json(await rollout().status()))
      .post("/rollout/canary", async (c) => {
        const operator = operatorOf(c.req.header(OPERATOR_HEADER));
        const { percent, reason } = await c.req.json<{ percent: number | null; reason?: string }>();
        await rollout().setCanary(operator, percent, reason?.trim() || "set by hand");
        return c.json(await rollout().status());
      })
      // The automated rollout's progress (and the share with it), saved only over the revision it was read at.
      .post("/rollout/save", async (c) => {
        const operator = operatorOf(c.req.header(OPERATOR_HEADER));
        const {
          rollout: next,
          expected,
          share,
        } = await c.req.json<{
          rollout: Rollout;
          expected: number | null;
          share?: { percent: number | null; reason: string };
        }>();
        if (!(await rollout().saveRollout(operator, next, expected, share)))
          throw new HTTPException(409, {
            res: problemResponse({
              status: 409,
              detail: "the rollout changed since it was read; read it again",
            }),
          });
        return c.json(await rollout().status());
      })
      .notFound((c) =>
        problemResponse({ status: 404, detail: `no route for ${c.req.method} ${c.req.path}` }),
      )
      .onError((error) =>
        error instanceof HTTPException
          ? error.getResponse()
          : // The registry's refusals (a bad name, an unknown key…) are the operator's to read.
            problemResponse({ status: 400, detail: error.message }),
      )
  );
}
