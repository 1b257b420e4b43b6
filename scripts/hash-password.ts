/**
 * Prints an API_USERS entry for a user: `npm run hash-password -- USER`, the password on standard
 * input (or in API_PASSWORD), so it never shows in the process list or the shell history.
 */
import { readFileSync } from "node:fs";
import { CONSUMER_NAME } from "../workers/gateway/consumers/consumer.ts";
import { hashPassword } from "../workers/gateway/middleware/basic-auth/password-hash.ts";

const user = process.argv[2];
if (!user || !CONSUMER_NAME.test(user)) {
  console.error(
    "usage: npm run hash-password -- USER   (password on stdin or in API_PASSWORD; USER is a consumer name: 1-64 of A-Za-z0-9._-)",
  );
  process.exit(2);
}
const password = process.env.API_PASSWORD ?? readFileSync(0, "utf8").replace(/\r?\n$/, "");
if (password === "") {
  console.error("hash-password: empty password");
  process.exit(2);
}
console.log(`${user}:${await hashPassword(password)}`);
