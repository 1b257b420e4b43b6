/**
 * make bench's accounting, from /proc: the CPU each program of the stack spent during a
 * measurement (utime + stime, ~20 lines: the raw counters the figures need; process-usage
 * libraries report percentages sampled over their own interval), and each program's RSS.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { pidOf } from "../scripts/stack/supervisor.ts";

const CLOCK_TICKS_PER_SECOND = Number(
  execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim(),
);

/** Busy CPU time of a process (user + system), in ms, from /proc. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Busy CPU time of the whole machine (all cores, everything but idle and iowait), in ms. */
function machineCpuMs(): number {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks as number[];
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The PIDs of each program of the stack; nginx's are its master and its workers (which do the work). */
function stackPids(programs: string[]): Record<string, number[]> {
  return Object.fromEntries(
    programs.map((name) => {
      const pid = pidOf(name);
      const children =
        name === "nginx"
          ? readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
              .trim()
              .split(/\s+/)
              .map(Number)
          : [];
      return [name, [pid, ...children]];
    }),
  );
}

/**
 * What `measure` measured, with the CPU it cost per request and per program: where the time goes.
 * "rest" is the machine's other busy time: the load generator (wrk, TLS included), the kernel's
 * share not charged to a process, and anything else running.
 */
export function withCpu<T extends { requests: number }>(
  programs: string[],
  measure: () => T,
): T & { cpuMicrosPerRequest: Record<string, number> } {
  const processes = stackPids(programs);
  const sample = () => ({
    machine: machineCpuMs(),
    byProcess: Object.fromEntries(
      Object.entries(processes).map(([name, pids]) => [
        name,
        pids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
      ]),
    ),
  });
  const before = sample();
  const result = measure();
  const after = sample();
  const perRequest = (ms: number) => Number(((ms * 1000) / result.requests).toFixed(1));
  const cpuMicrosPerRequest: Record<string, number> = {};
  let accounted = 0;
  for (const name of Object.keys(processes)) {
    const ms = after.byProcess[name]! - before.byProcess[name]!;
    accounted += ms;
    cpuMicrosPerRequest[name] = perRequest(ms);
  }
  cpuMicrosPerRequest.rest = perRequest(after.machine - before.machine - accounted);
  cpuMicrosPerRequest.total = perRequest(after.machine - before.machine);
  return { ...result, cpuMicrosPerRequest };
}

/** RSS of these processes together, in MB. */
export function rssOfPids(pids: number[]): number {
  const rssKb = (pid: number) =>
    Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)![1]);
  return pids.reduce((kb, pid) => kb + rssKb(pid), 0) / 1024;
}

/** RSS of each program, in MB (nginx: master and workers together). */
export function rssMegabytes(programs: string[]): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stackPids(programs)).map(([name, pids]) => [name, rssOfPids(pids)]),
  );
}
