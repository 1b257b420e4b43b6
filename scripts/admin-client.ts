/**
 * A client of the gateway's `Admin` entrypoint on its unix socket, which only the stack's user and
 * root can open (README, "Consumers"), for `npm run consumers`, `npm run rollout` and the rollout
 * controller. Every call names its operator: sudo's user, else this process's.
 */
import { request } from "node:http";
import { userInfo } from "node:os";
import { OPERATOR_HEADER } from "../workers/gateway/admin/admin-api.ts";

export type AdminCall = (method: string, path: string, body?: unknown) => Promise<unknown>;

export function adminClient(
  adminSocket: string,
  operator = process.env.SUDO_USER ?? userInfo().username,
): AdminCall {
  /** One call of the Admin entrypoint; its JSON, or the problem's detail as the failure. */
  return function admin(method: string, path: string, body?: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: adminSocket,
          method,
          path,
          headers: {
            Host: "admin",
            [OPERATOR_HEADER]: operator,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          timeout: 10_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => {
            const json = text === "" ? null : JSON.parse(text);
            if ((res.statusCode ?? 500) >= 400) reject(new Error(json?.detail ?? text));
            else resolve(json);
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("the gateway did not answer within 10 s")));
      req.on("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "ENOENT" || error.code === "ECONNREFUSED"
            ? new Error(
                `the gateway's management socket ${adminSocket} is not there: is the stack running (make start-project)?`,
              )
            : error.code === "EACCES"
              ? new Error(
                  `${adminSocket} is the stack's user's and root's alone: run this as one of them`,
                )
              : error,
        ),
      );
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  };
}
