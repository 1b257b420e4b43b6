/**
 * The stack's active health check, run by supervisord beside the processes it watches: every
 * second it asks each workerd process's ops port for /health, and kills a process that failed
 * FAILURES_BEFORE_RESTART probes in a row, which supervisord then starts again. A hung process
 * (alive, connected, silent) is invisible to supervisord, which only sees exits, and nginx's pool
 * only routes around it.
 *
 * Written here rather than taken from superlance (httpok does this for supervisord): superlance is
 * not a Debian package and PyPI is out of reach, so it could not be installed by `make setup`.
 *
 *   tsx scripts/stack/watchdog.ts gateway=9200 v1-0=9201 …
 */
import { setTimeout as sleep } from "node:timers/promises";
import { supervisorctl } from "./supervisor.ts";

const PROBE_INTERVAL_MS = 1000;
const PROBE_TIMEOUT_MS = 1000;
const FAILURES_BEFORE_RESTART = 3;
/** A process just (re)started loads its bundle and model first: its probes count after this. */
const GRACE_MS = 10_000;

interface Watched {
  program: string;
  url: string;
  failures: number;
  watchedFrom: number;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function watch(processes: Watched[]): Promise<never> {
  for (;;) {
    const started = Date.now();
    await Promise.all(
      processes.map(async (p) => {
        if (started < p.watchedFrom) return;
        p.failures = (await answers(p.url)) ? 0 : p.failures + 1;
        if (p.failures < FAILURES_BEFORE_RESTART) return;
        console.log(JSON.stringify({ event: "restart_unhealthy", program: p.program, failed_probes: p.failures, url: p.url }));
        // SIGKILL: a stopped or hung process does not act on TERM; supervisord restarts it (autorestart).
        supervisorctl("signal", "KILL", p.program);
        p.failures = 0;
        p.watchedFrom = Date.now() + GRACE_MS;
      }),
    );
    await sleep(Math.max(0, started + PROBE_INTERVAL_MS - Date.now()));
  }
}

const targets = process.argv.slice(2).map((argument) => {
  const [program, port] = argument.split("=");
  if (!program || !/^\d+$/.test(port ?? "")) throw new Error(`usage: watchdog.ts PROGRAM=OPS_PORT …, not ${argument}`);
  return { program, url: `http://127.0.0.1:${port}/health`, failures: 0, watchedFrom: Date.now() + GRACE_MS };
});
await watch(targets);
