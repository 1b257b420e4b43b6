/**
 * What the stack generates once and git ignores: the self-signed TLS certificate, the API
 * credentials (.secrets/credentials.env) and the API_USERS secret built from them
 * (.secrets/api-users: one `user:hash` line a user; add lines with `npm run hash-password`).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { hashPassword } from "../../workers/gateway/middleware/basic-auth/password-hash.ts";
import { parseEnvFile, paths } from "./settings.ts";

export const certificate = {
  cert: join(paths.certs, "nginx.crt"),
  key: join(paths.certs, "nginx.key"),
};

export function ensureCertificate(): void {
  if (existsSync(certificate.cert) && existsSync(certificate.key)) return;
  mkdirSync(paths.certs, { recursive: true });
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "365",
      "-keyout",
      certificate.key,
      "-out",
      certificate.cert,
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    ],
    { stdio: "pipe" },
  );
  chmodSync(certificate.key, 0o600);
  console.log(`generated a self-signed certificate: ${certificate.cert}`);
}

export interface Credentials {
  user: string;
  password: string;
}

export function readCredentials(): Credentials {
  const values = parseEnvFile(readFileSync(paths.credentials, "utf8"));
  return { user: values.API_USER!, password: values.API_PASSWORD! };
}

/**
 * API_USER / API_PASSWORD from the environment when set, else the ones kept from before, else a
 * generated pair. The gateway only ever sees the salted hash.
 */
export async function ensureCredentials(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials> {
  mkdirSync(paths.secrets, { recursive: true, mode: 0o700 });
  closeSecrets();
  const kept = existsSync(paths.credentials) ? readCredentials() : undefined;
  const wanted: Credentials = {
    user: env.API_USER ?? kept?.user ?? "fortress",
    password: env.API_PASSWORD ?? kept?.password ?? randomBytes(18).toString("base64url"),
  };
  if (wanted.user.includes(":") || /\s/.test(wanted.user))
    throw new Error("API_USER may not contain ':' or white space");
  const changed = kept?.user !== wanted.user || kept?.password !== wanted.password;
  if (changed || !existsSync(paths.apiUsers)) {
    writeFileSync(paths.credentials, `API_USER=${wanted.user}\nAPI_PASSWORD=${wanted.password}\n`, {
      mode: 0o600,
    });
    // Keep users added by hand (npm run hash-password); replace only the stack's own.
    const others = (existsSync(paths.apiUsers) ? readApiUsers() : "")
      .split("\n")
      .filter(
        (line) =>
          line.trim() !== "" &&
          ![kept?.user, wanted.user].includes(line.slice(0, line.indexOf(":"))),
      );
    const entry = `${wanted.user}:${await hashPassword(wanted.password)}`;
    writeFileSync(paths.apiUsers, `${[...others, entry].join("\n")}\n`, { mode: 0o600 });
    console.log(`credentials written to ${paths.credentials}`);
  }
  return wanted;
}

/** A random secret in .secrets/<name>, made once and kept; its path. */
function ensureRandomSecret(name: string, bytes: number): string {
  const file = join(paths.secrets, name);
  if (existsSync(file)) return file;
  mkdirSync(paths.secrets, { recursive: true, mode: 0o700 });
  writeFileSync(file, randomBytes(bytes).toString("base64url"), { mode: 0o600 });
  return file;
}

/** The HMAC key of the gateway's prediction tokens (FEEDBACK_SECRET). */
export const ensureFeedbackSecret = () => ensureRandomSecret("feedback-secret", 32);

/** The admin password of docker-compose's Grafana (its user is admin). */
export const ensureGrafanaPassword = () => ensureRandomSecret("grafana-admin-password", 18);

/** .secrets is its owner's alone, whatever made its files (an editor, `>>` under another umask). */
function closeSecrets(): void {
  chmodSync(paths.secrets, 0o700);
  for (const file of readdirSync(paths.secrets)) chmodSync(join(paths.secrets, file), 0o600);
}

export const readApiUsers = () => readFileSync(paths.apiUsers, "utf8");

/**
 * The local value of each secret a wrangler.toml requires (`[secrets] required`): the file of
 * .secrets named after it (API_USERS: .secrets/api-users), as `wrangler secret put` holds it on Cloudflare.
 */
export function localSecrets(names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.map((name) => {
      const file = join(paths.secrets, name.toLowerCase().replaceAll("_", "-"));
      if (!existsSync(file))
        throw new Error(`the secret ${name} has no local value: ${file} is missing`);
      return [name, readFileSync(file, "utf8")];
    }),
  );
}
