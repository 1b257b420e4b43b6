/**
 * XML-RPC to supervisord over its socket, for the stack's own programs (the watchdog, the rollout
 * controller), which run as the stack's user from one bundled file each and so cannot run
 * supervisorctl from the checkout. Hand-written: a few calls with string arguments, not worth a
 * client library. Never blocking, unlike supervisorctl (0.2-1 s of Python start here).
 */
import { request } from "node:http";

/** One call; the body of supervisord's answer ("" when it could not be reached). */
export function callSupervisord(
  socketPath: string,
  method: string,
  ...args: string[]
): Promise<string> {
  const params = args
    .map((arg) => `<param><value><string>${arg}</string></value></param>`)
    .join("");
  return new Promise((resolve) => {
    const call = request(
      { socketPath, path: "/RPC2", method: "POST", headers: { "Content-Type": "text/xml" } },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.once("end", () => resolve(body));
      },
    );
    call.once("error", () => resolve(""));
    call.end(
      `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`,
    );
  });
}

/** A member of a getProcessInfo answer: an int's or a string's text, or undefined. */
export function infoField(info: string, name: string): string | undefined {
  return new RegExp(
    `<name>${name}</name>\\s*<value>\\s*(?:<(?:int|string)>([^<]*)</(?:int|string)>|([^<\\s][^<]*))`,
  )
    .exec(info)
    ?.slice(1)
    .find((v) => v !== undefined);
}
