/**
 * The consumers' management on the local stack: `npm run consumers -- COMMAND`. It speaks to the
 * gateway's `Admin` entrypoint on its unix socket, which only the stack's user and root can open
 * (README, "Consumers"); every change is recorded with who made it (the operator: sudo's user, else
 * this process's). Changes reach every gateway isolate within a few seconds, with no restart.
 *
 *   add NAME [--rps N] [--burst N] [--daily N] [--scope S]... [--expires ISO-8601]
 *                                prints {"name", "key", "key_id"}: the key, shown this once
 *   add NAME --password-stdin    its password instead (replacing one before), read from standard
 *                                input and hashed here
 *   list [--json]                names, limits, keys (their ids), created, last used; never a key
 *   revoke NAME | KEY_ID         a consumer with every credential of it (a user of the API_USERS
 *                                secret too), or one key
 *   rotate NAME | KEY_ID [--grace SECONDS]  a new key in place of one (a consumer's only one, or
 *                                that key), with its scopes; the old one works for the grace period
 *                                (default 3600 s)
 *   audit [--json]               the management log: who did what, when
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { hashPassword } from "../workers/gateway/middleware/basic-auth/password-hash.ts";
import { adminClient } from "./admin-client.ts";
import type { AddRequest, AuditEntry, ListedConsumer } from "../workers/gateway/admin/admin-api.ts";
import { loadSettings, workerProcesses } from "./stack/settings.ts";

const USAGE = `usage: npm run consumers -- add NAME [--rps N] [--burst N] [--daily N] [--scope predict|feedback]... [--expires ISO-8601] [--password-stdin]
                          list [--json] | revoke NAME|KEY_ID | rotate NAME|KEY_ID [--grace SECONDS] | audit [--json]`;

const admin = adminClient(workerProcesses(loadSettings()).find((p) => p.adminSocket)!.adminSocket!);

function fail(message: string, code = 1): never {
  console.error(`consumers: ${message}`);
  process.exit(code);
}

const number = (text: string | undefined, flag: string) => {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : fail(`${flag} takes a number, not ${JSON.stringify(text)}`, 2);
};
const time = (at: number | null) => (at === null ? "-" : new Date(at).toISOString());

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rps: { type: "string" },
      burst: { type: "string" },
      daily: { type: "string" },
      scope: { type: "string", multiple: true },
      expires: { type: "string" },
      "password-stdin": { type: "boolean" },
      grace: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [command, subject] = positionals;
  const needSubject = () => subject ?? fail(`${command} needs a NAME\n${USAGE}`, 2);
  switch (command) {
    case "add": {
      const expiresAt = values.expires === undefined ? undefined : Date.parse(values.expires);
      if (Number.isNaN(expiresAt))
        fail(`--expires takes an ISO-8601 time, not ${values.expires}`, 2);
      const body: AddRequest = {
        name: needSubject(),
        ratePerSecond: number(values.rps, "--rps"),
        burst: number(values.burst, "--burst"),
        daily: number(values.daily, "--daily"),
        expiresAt,
        scopes: values.scope as AddRequest["scopes"],
      };
      if (values["password-stdin"]) {
        const password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
        if (password === "") fail("the password on standard input is empty", 2);
        body.passwordHash = await hashPassword(password);
      }
      console.log(JSON.stringify(await admin("POST", "/consumers", body)));
      return;
    }
    case "list": {
      const consumers = (await admin("GET", "/consumers")) as ListedConsumer[];
      if (values.json) {
        for (const consumer of consumers) console.log(JSON.stringify(consumer));
        return;
      }
      for (const c of consumers) {
        const limits = `rps=${c.limits.ratePerSecond ?? "default"} burst=${c.limits.burst ?? "default"} daily=${c.limits.daily ?? "default"}`;
        const state = c.revokedAt ? `revoked ${time(c.revokedAt)}` : `expires ${time(c.expiresAt)}`;
        console.log(
          `${c.name}  ${limits}  used today ${c.usedToday}  created ${time(c.createdAt)}  last used ${time(c.lastUsedAt)}  ${state}  passwords ${c.passwords}`,
        );
        for (const k of c.keys) {
          const keyState = k.revokedAt
            ? `revoked ${time(k.revokedAt)}`
            : `expires ${time(k.expiresAt)}`;
          console.log(
            `  ${k.id}  ${k.scopes.join(",")}  created ${time(k.createdAt)}  last used ${time(k.lastUsedAt)}  ${keyState}`,
          );
        }
      }
      return;
    }
    case "revoke":
      await admin("POST", `/revoke/${encodeURIComponent(needSubject())}`);
      console.log(JSON.stringify({ revoked: subject }));
      return;
    case "rotate": {
      const graceSeconds = number(values.grace, "--grace") ?? 3600;
      console.log(
        JSON.stringify(
          await admin("POST", `/rotate/${encodeURIComponent(needSubject())}`, {
            graceSeconds,
          }),
        ),
      );
      return;
    }
    case "audit": {
      const entries = (await admin("GET", "/audit")) as AuditEntry[];
      for (const e of entries)
        console.log(
          values.json
            ? JSON.stringify(e)
            : `${time(e.at)}  ${e.actor}  ${e.action}  ${e.subject}${e.detail ? `  ${e.detail}` : ""}`,
        );
      return;
    }
    default:
      fail(USAGE, 2);
  }
}

main(process.argv.slice(2)).catch((error: Error) => fail(error.message));
