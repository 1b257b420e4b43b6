/** supervisorctl against the native stack's supervisord, for the stack script, tests and bench. */
import { spawnSync } from "node:child_process";
import { rendered } from "./render.ts";

/**
 * Runs supervisorctl with the stack's config; its standard output, trimmed. An action that fails
 * (supervisorctl 4 exits non-zero) throws with what it said; `status` exits 3 whenever a process
 * is not running, which is an answer, not a failure.
 */
function run(args: string[]) {
  const result = spawnSync("supervisorctl", ["-c", rendered.supervisord, ...args], {
    encoding: "utf8",
  });
  return {
    status: result.status,
    said: (result.stdout + result.stderr).trim(),
    stdout: result.stdout.trim(),
  };
}

export function supervisorctl(...args: string[]): string {
  const { status, said, stdout } = run(args);
  const answered = status === 0 || (args[0] === "status" && status === 3);
  if (!answered) throw new Error(`supervisorctl ${args.join(" ")} exited ${status}: ${said}`);
  return stdout;
}

/**
 * The PID of a running program of the stack (workerd's own: its command ends in exec). Never 0:
 * supervisorctl says 0 (and exits 7) for a program that is not running, and kill(0) would signal
 * the caller's own process group.
 */
export function pidOf(program: string): number {
  const { said } = run(["pid", program]);
  const pid = Number(said);
  if (!Number.isInteger(pid) || pid <= 0)
    throw new Error(`${program} is not running (supervisorctl pid said ${JSON.stringify(said)})`);
  return pid;
}
