/**
 * The peer make bench measures us against: the exam's stack (nginx with TLS, Basic Auth and
 * limit_req in front of three uvicorn workers of a FastAPI service, a scikit-learn pipeline),
 * built from Debian's python3 packages and trained on the repo's data set. It runs beside our
 * stack for one benchmark, on loopback ports of its own, and is gone when `stop` returns.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { dataPaths } from "../../model/training/dataset.ts";
import { paths, ROOT } from "../../scripts/stack/settings.ts";

/** Each form's HTTPS port (both can run at once); its three uvicorn workers listen on the three after it. */
const HTTPS_PORTS = { exam: 9443, tuned: 9453 };
const WORKERS = 3;
const PYTHON = "/usr/bin/python3"; // Debian's, whose packages hold FastAPI, uvicorn and scikit-learn
const HERE = join(ROOT, "bench/peer");
/** The trained model and the workers' logs. */
const PEER_STATE = join(paths.state, "bench-peer");

/**
 * exam: the exam's spec, every setting it leaves open at its tool's default (a `def` endpoint,
 * uvicorn's pure-Python h11 parser and asyncio loop as a requirements.txt without extras gives,
 * its access log, no keep-alive from nginx to the workers). tuned: each of those at its faster
 * choice (an async endpoint, uvloop and httptools, no access log, upstream keep-alive).
 */
export type PeerForm = keyof typeof HTTPS_PORTS;
export const PEER_FORMS = Object.keys(HTTPS_PORTS) as PeerForm[];

export interface Peer {
  form: PeerForm;
  base: string;
  authorization: string;
  /** The model's accuracy on the test split, as train.py measured it. */
  testAccuracy: number;
  pids: () => number[];
  stop: () => Promise<void>;
}

/** The model, trained once per data set and training script (kept in .state/bench-peer). */
function trainedModel(): { model: string; testAccuracy: number } {
  const { dataPath, trainIds, testIds } = dataPaths();
  const key = createHash("sha256")
    .update(readFileSync(dataPath))
    .update(readFileSync(trainIds))
    .update(readFileSync(join(HERE, "train.py")))
    .digest("hex")
    .slice(0, 12);
  const model = join(PEER_STATE, `model-${key}.joblib`);
  const figures = `${model}.json`;
  mkdirSync(PEER_STATE, { recursive: true });
  if (!existsSync(figures)) {
    const printed = execFileSync(
      PYTHON,
      [join(HERE, "train.py"), dataPath, trainIds, testIds, model],
      {
        encoding: "utf8",
        env: { ...process.env, OPENBLAS_NUM_THREADS: "1" },
      },
    );
    writeFileSync(figures, printed);
  }
  return { model, testAccuracy: JSON.parse(readFileSync(figures, "utf8")).test_accuracy };
}

function render(template: string, values: Record<string, string | number>): string {
  return template.replace(/\$\{([A-Z_0-9]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`bench/peer/nginx.conf.template: no value for ${name}`);
    return String(values[name]);
  });
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const connected = await new Promise<boolean>((done) => {
      const socket = connect(port, "127.0.0.1", () => done(true)).on("error", () => done(false));
      socket.unref();
      setTimeout(() => socket.destroy(), 50);
    });
    if (connected) return;
    await sleep(100);
  }
  throw new Error(`no peer worker listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

async function answers(base: string, authorization: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = execFileSync(
      "curl",
      [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--cacert",
        join(paths.certs, "nginx.crt"),
        "-H",
        `Authorization: ${authorization}`,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"sentence":"I love this!"}',
        `${base}/predict`,
      ],
      { encoding: "utf8" },
    ).trim();
    if (status === "200") return;
    await sleep(100);
  }
  throw new Error(`the peer gave no 200 on /predict within ${timeoutMs} ms`);
}

export async function startPeer(form: PeerForm): Promise<Peer> {
  const { model, testAccuracy } = trainedModel();
  // Outside the checkout: nginx's workers (nobody, when started as root) read the htpasswd file
  // per request, and the checkout may be a 0700 folder.
  const dir = mkdtempSync(join(tmpdir(), "fortress-bench-peer-"));
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null || child.signalCode !== null
          ? undefined
          : new Promise((done) => child.once("exit", done)),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return await started(form, dir, children, stop, testAccuracy, model);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function started(
  form: PeerForm,
  dir: string,
  children: ChildProcess[],
  stop: () => Promise<void>,
  testAccuracy: number,
  model: string,
): Promise<Peer> {
  chmodSync(dir, 0o755);
  const user = "peer";
  const password = randomBytes(12).toString("base64url");
  const hash = execFileSync("openssl", ["passwd", "-apr1", password], { encoding: "utf8" }).trim();
  writeFileSync(join(dir, "htpasswd"), `${user}:${hash}\n`, { mode: 0o644 });
  const httpsPort = HTTPS_PORTS[form];
  const ports = Array.from({ length: WORKERS }, (_, i) => httpsPort + 1 + i);
  writeFileSync(
    join(dir, "nginx.conf"),
    render(readFileSync(join(HERE, "nginx.conf.template"), "utf8"), {
      DIR: dir,
      CERT_DIR: paths.certs,
      HTTPS_PORT: httpsPort,
      UPSTREAM_KEEPALIVE: form === "tuned" ? "keepalive 64;" : "",
      ...Object.fromEntries(ports.map((port, i) => [`UVICORN_PORT_${i}`, port])),
    }),
  );
  const log = openSync(join(PEER_STATE, `${form}-uvicorn.log`), "w");
  children.push(
    ...ports.map((port) =>
      spawn(
        PYTHON,
        [
          "-m",
          "uvicorn",
          "app:app",
          "--host",
          "127.0.0.1",
          "--port",
          String(port),
          ...(form === "tuned"
            ? ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
            : ["--loop", "asyncio", "--http", "h11"]),
        ],
        {
          cwd: HERE,
          env: { ...process.env, PEER_MODEL: model, PEER_FORM: form, OPENBLAS_NUM_THREADS: "1" },
          // Kept for a look after the run (the exam form's access log included): .state/bench-peer.
          stdio: ["ignore", log, log],
        },
      ),
    ),
  );
  // nginx once every worker listens: it would mark a worker that is still loading as down.
  closeSync(log);
  await Promise.all(ports.map((port) => listening(port, 60_000)));
  children.push(
    spawn("nginx", ["-c", join(dir, "nginx.conf"), "-p", dir, "-e", "stderr"], {
      stdio: ["ignore", "ignore", "inherit"],
    }),
  );
  const base = `https://localhost:${httpsPort}`;
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  await answers(base, authorization, 30_000);
  const pids = () => {
    const nginxPid = children.at(-1)!.pid!;
    const workers = readFileSync(`/proc/${nginxPid}/task/${nginxPid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return [...children.map((c) => c.pid!), ...workers];
  };
  return { form, base, authorization, testAccuracy, pids, stop };
}
