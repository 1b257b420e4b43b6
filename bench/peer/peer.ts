/**
 * The peer make bench measures us against: the exam's stack (nginx with TLS, Basic Auth and
 * limit_req in front of uvicorn workers of a FastAPI service, a scikit-learn pipeline), built from
 * Debian's python3 packages and trained on the repo's data set. It runs beside our stack for one
 * benchmark, on loopback ports of its own, and is gone when `stop` returns.
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
import { renderTemplate } from "../../scripts/stack/render.ts";
import { paths, ROOT } from "../../scripts/stack/settings.ts";
import { BENCH_ENV } from "../load.ts";

/** Each form's HTTPS port (both run at once); its uvicorn workers listen on the ports after it. */
const HTTPS_PORTS = { exam: 9443, tuned: 9453 };
/** The exam asks for at least three instances of the API. */
export const PEER_WORKERS = 3;
const PYTHON = "/usr/bin/python3"; // Debian's, whose packages hold FastAPI, uvicorn and scikit-learn
const HERE = join(ROOT, "bench/peer");
/** The trained model and the workers' logs. */
const PEER_STATE = join(paths.state, "bench-peer");
const STOP_GRACE_MS = 5000;

/**
 * exam: the exam's spec, every setting it leaves open at its tool's default (a `def` endpoint,
 * uvicorn's pure-Python h11 parser and asyncio loop as a requirements.txt without extras gives,
 * its access log, nginx's access log, HTTP/1.0 and no keep-alive to the workers). tuned: each of
 * those at its faster choice (an async endpoint, uvloop and httptools, no access logs, upstream
 * keep-alive).
 */
export type PeerForm = keyof typeof HTTPS_PORTS;
export const PEER_FORMS = Object.keys(HTTPS_PORTS) as PeerForm[];

export interface Peer {
  form: PeerForm;
  base: string;
  authorization: string;
  /** What the model is and its accuracy on the test split, as train.py printed them. */
  model: { description: string; testAccuracy: number };
  /** Every process of the peer: nginx's master and workers, the uvicorn workers. */
  pids: () => number[];
  stop: () => Promise<void>;
}

/** The model, trained once per data set, split, training script and scikit-learn version. */
function trainedModel(): { file: string; description: string; testAccuracy: number } {
  const { dataPath, trainIds, testIds } = dataPaths();
  const sklearnVersion = execFileSync(
    PYTHON,
    ["-c", "import sklearn; print(sklearn.__version__)"],
    {
      encoding: "utf8",
    },
  );
  const hash = createHash("sha256").update(sklearnVersion);
  for (const file of [dataPath, trainIds, testIds, join(HERE, "train.py")])
    hash.update(readFileSync(file));
  const file = join(PEER_STATE, `model-${hash.digest("hex").slice(0, 12)}.joblib`);
  const printedFile = `${file}.json`;
  mkdirSync(PEER_STATE, { recursive: true });
  if (!existsSync(printedFile)) {
    const printed = execFileSync(
      PYTHON,
      [join(HERE, "train.py"), dataPath, trainIds, testIds, file],
      {
        encoding: "utf8",
        env: { ...process.env, OPENBLAS_NUM_THREADS: "1" },
      },
    );
    writeFileSync(printedFile, printed);
  }
  const { model, test_accuracy } = JSON.parse(readFileSync(printedFile, "utf8"));
  return { file, description: model, testAccuracy: test_accuracy };
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Resolves once something accepts on the port; throws when `failed` says the peer is gone. */
async function waitUntilListening(port: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const failure = failed();
    if (failure) throw new Error(failure);
    if (await portAnswers(port)) return;
    await sleep(100);
  }
  throw new Error(`no peer worker listens on 127.0.0.1:${port} after 60 s`);
}

async function waitForFirst200(
  base: string,
  authorization: string,
  failed: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = "no answer";
  while (Date.now() < deadline) {
    const failure = failed();
    if (failure) throw new Error(failure);
    try {
      const status = execFileSync(
        "curl",
        [
          ...["-s", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}"],
          ...["--cacert", join(paths.certs, "nginx.crt")],
          ...["-H", `Authorization: ${authorization}`, "-H", "Content-Type: application/json"],
          ...["-d", '{"sentence":"I love this!"}', `${base}/predict`],
        ],
        { encoding: "utf8" },
      ).trim();
      if (status === "200") return;
      last = `status ${status}`;
    } catch (error) {
      last = String(error); // not listening yet, or too slow: ask again
    }
    await sleep(100);
  }
  throw new Error(`the peer gave no 200 on ${base}/predict within 30 s (last: ${last})`);
}

/** Whatever a peer still runs when make bench exits (an error, a signal): killed on the way out. */
const leftovers = new Set<{ children: ChildProcess[]; dir: string }>();
process.on("exit", () => {
  for (const { children, dir } of leftovers) {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts one form of the peer; throws (with nothing left running) when it does not answer. */
export async function startPeer(form: PeerForm): Promise<Peer> {
  const httpsPort = HTTPS_PORTS[form];
  const workerPorts = Array.from({ length: PEER_WORKERS }, (_, i) => httpsPort + 1 + i);
  for (const port of [httpsPort, ...workerPorts])
    if (await portAnswers(port))
      throw new Error(
        `127.0.0.1:${port}, a port of the ${form} peer, is taken (a peer left over?)`,
      );
  const model = trainedModel();
  // Outside the checkout: nginx's workers (nobody, when started as root) read the htpasswd file
  // per request, and the checkout may be a 0700 folder.
  const dir = mkdtempSync(join(tmpdir(), "fortress-bench-peer-"));
  const children: ChildProcess[] = [];
  const running = { children, dir };
  leftovers.add(running);
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        if (await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false)])) return;
        child.kill("SIGKILL");
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
    leftovers.delete(running);
  };
  const workerLog = join(PEER_STATE, `${form}-uvicorn.log`);
  /** Why the peer cannot come up, once one of its processes has exited. */
  const failed = () => {
    const gone = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    return (
      gone && `a process of the ${form} peer exited (${gone.spawnargs.join(" ")}); see ${workerLog}`
    );
  };
  try {
    chmodSync(dir, 0o755);
    const user = "peer";
    const password = randomBytes(12).toString("base64url");
    // On standard input: a password that starts with "-" would be read as an option.
    const hash = execFileSync("openssl", ["passwd", "-apr1", "-stdin"], {
      input: password,
      encoding: "utf8",
    }).trim();
    writeFileSync(join(dir, "htpasswd"), `${user}:${hash}\n`, { mode: 0o644 });
    const tuned = form === "tuned";
    writeFileSync(
      join(dir, "nginx.conf"),
      renderTemplate(readFileSync(join(HERE, "nginx.conf.template"), "utf8"), {
        DIR: dir,
        CERT_DIR: paths.certs,
        HTTPS_PORT: String(httpsPort),
        RATE_PER_SECOND: BENCH_ENV.RATE_LIMIT_RPS,
        BURST: BENCH_ENV.RATE_LIMIT_BURST,
        UVICORN_SERVERS: workerPorts.map((port) => `        server 127.0.0.1:${port};`).join("\n"),
        ACCESS_LOG: tuned ? "access_log off;" : `access_log ${dir}/access.log;`,
        UPSTREAM_KEEPALIVE: tuned ? "keepalive 64;" : "",
        PROXY_KEEPALIVE: tuned ? 'proxy_http_version 1.1; proxy_set_header Connection "";' : "",
      }),
    );
    // Kept for a look after the run (the exam form's access log included).
    const log = openSync(workerLog, "w");
    for (const port of workerPorts) {
      const child = spawn(
        PYTHON,
        [
          ...["-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", String(port)],
          ...(tuned
            ? ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
            : ["--loop", "asyncio", "--http", "h11"]),
        ],
        {
          cwd: HERE,
          env: {
            ...process.env,
            PEER_MODEL: model.file,
            PEER_FORM: form,
            OPENBLAS_NUM_THREADS: "1",
            PYTHONDONTWRITEBYTECODE: "1",
          },
          stdio: ["ignore", log, log],
        },
      );
      child.on("error", () => {}); // a failed spawn shows as its exit, which `failed` reports
      children.push(child);
    }
    closeSync(log);
    // nginx once every worker listens: it would mark a worker that is still loading as down.
    for (const port of workerPorts) await waitUntilListening(port, failed);
    const nginx = spawn("nginx", ["-c", join(dir, "nginx.conf"), "-p", dir, "-e", "stderr"], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    nginx.on("error", () => {});
    children.push(nginx);
    const base = `https://localhost:${httpsPort}`;
    const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    await waitForFirst200(base, authorization, failed);
    const pids = () => {
      const workers = readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, "utf8")
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
      return [...children.map((c) => c.pid!), ...workers];
    };
    const { description, testAccuracy } = model;
    return { form, base, authorization, model: { description, testAccuracy }, pids, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
