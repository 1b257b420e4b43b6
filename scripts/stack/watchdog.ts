/**
 * The stack's active health check, run by supervisord beside the processes it watches:
 *
 * - Every second it asks each workerd process's ops port for /health, and kills a process that
 *   failed FAILURES_BEFORE_RESTART probes in a row, which supervisord then starts again. A hung
 *   process (alive, connected, silent) is invisible to supervisord, which only sees exits, and
 *   nginx's pool only routes around it.
 * - It keeps an idle connection open to each ops port. The kernel closes it the moment the process
 *   dies; if the port then refuses a new connection, the watchdog wakes supervisord with an RPC.
 *   supervisord reaps a dead child only when its event loop turns, which without I/O is once a
 *   second (its poll timeout; Python resumes the poll after SIGCHLD): the gateway was back after
 *   1.1-1.3 s, and is back after ~0.12 s when woken (make bench measures it).
 *
 * Written here rather than taken from superlance (httpok does the probing for supervisord):
 * superlance is not a Debian package and PyPI is out of reach, so `make setup` could not install it,
 * and nothing there shortens supervisord's reaping.
 *
 * The stack runs it as one bundled file (render.ts), so that it runs as the stack's user, who may
 * not enter the checkout: it imports nothing that reads the checkout at run time.
 *
 *   tsx scripts/stack/watchdog.ts SUPERVISOR_SOCKET gateway=9200 v1-0=9201 …
 */
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { callSupervisord, infoField } from "./supervisor-rpc.ts";

const PROBE_INTERVAL_MS = 1000;
const PROBE_TIMEOUT_MS = 1000;
const FAILURES_BEFORE_RESTART = 3;
/** A process just (re)started loads its bundle and model first: its probes count after this. */
const GRACE_MS = 10_000;
/** How often supervisord is woken while a dead process's port stays closed, and for how long. */
const WAKE_INTERVAL_MS = 20;
const WAKE_FOR_MS = 5_000;

interface Watched {
  program: string;
  port: number;
  failures: number;
  /** The process that failed the probes counted in `failures`. */
  failingPid: number;
  watchedFrom: number;
}

/** One JSON line a thing the watchdog did or saw, with its time. */
function logEvent(fields: Record<string, string | number>): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The program's PID now, or 0 when it has none (stopped, starting, or supervisord did not say). */
async function currentPid(supervisorSocket: string, program: string): Promise<number> {
  const info = await callSupervisord(supervisorSocket, "supervisor.getProcessInfo", program);
  const pid = infoField(info, "pid");
  return pid === undefined ? 0 : Number(pid);
}

async function probeForever(processes: Watched[], supervisorSocket: string): Promise<never> {
  for (;;) {
    const started = Date.now();
    await Promise.all(
      processes.map(async (p) => {
        if (started < p.watchedFrom) return;
        if (await answers(p.port)) {
          p.failures = 0;
          return;
        }
        // Failures count for one process: one restarted meanwhile (by supervisord, or by hand)
        // starts from none, and the kill below can only reach the process that failed.
        const pid = await currentPid(supervisorSocket, p.program);
        p.failures = pid !== 0 && pid === p.failingPid ? p.failures + 1 : 1;
        p.failingPid = pid;
        if (p.failures < FAILURES_BEFORE_RESTART || pid === 0) return;
        logEvent({
          event: "restart_unhealthy",
          program: p.program,
          pid,
          failed_probes: p.failures,
          port: p.port,
        });
        // SIGKILL: a stopped or hung process does not act on TERM; supervisord restarts it (autorestart).
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone already.
        }
        p.failures = 0;
        p.watchedFrom = Date.now() + GRACE_MS;
      }),
    );
    await sleep(Math.max(0, started + PROBE_INTERVAL_MS - Date.now()));
  }
}

/** Resolves with an open connection to the port, or undefined when nothing listens there. */
function open(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", () => resolve(undefined));
  });
}

async function accepts(port: number): Promise<boolean> {
  const socket = await open(port);
  socket?.destroy();
  return socket !== undefined;
}

/**
 * Any RPC makes supervisord's loop turn, and each turn reaps exited children and starts those
 * that should run. getState is the cheapest; its answer does not matter.
 */
const wakeSupervisord = (socketPath: string) =>
  callSupervisord(socketPath, "supervisor.getState").then(() => undefined);

/** Sees a process die the moment the kernel closes its connections, and has supervisord act at once. */
async function sentinel(p: Watched, supervisorSocket: string): Promise<never> {
  for (;;) {
    const connection = await open(p.port);
    if (!connection) {
      // Not listening yet (starting, or stopped on purpose): supervisord's business.
      await sleep(PROBE_INTERVAL_MS);
      continue;
    }
    await new Promise((closed) => connection.once("close", closed).on("error", () => {}));
    // workerd closes an idle connection after 15 s: then the port still accepts, and nothing died.
    if (await accepts(p.port)) continue;
    logEvent({ event: "exit_seen", program: p.program, port: p.port });
    const until = Date.now() + WAKE_FOR_MS;
    do {
      await wakeSupervisord(supervisorSocket);
      await sleep(WAKE_INTERVAL_MS);
    } while (Date.now() < until && !(await accepts(p.port)));
  }
}

const [supervisorSocket, ...programs] = process.argv.slice(2);
const watched = programs.map((argument) => {
  const [program, port] = argument.split("=");
  if (!supervisorSocket || !program || !/^\d+$/.test(port ?? "")) {
    throw new Error(`usage: watchdog.ts SUPERVISOR_SOCKET PROGRAM=OPS_PORT …, not ${argument}`);
  }
  return {
    program,
    port: Number(port),
    failures: 0,
    failingPid: 0,
    watchedFrom: Date.now() + GRACE_MS,
  };
});
await Promise.all([
  probeForever(watched, supervisorSocket!),
  ...watched.map((p) => sentinel(p, supervisorSocket!)),
]);
