/** supervisorctl against the native stack's supervisord, for the stack script, tests and bench. */
import { spawnSync } from "node:child_process";
import { rendered } from "./render.ts";

/** Runs supervisorctl with the stack's config; its standard output, trimmed. */
export function supervisorctl(...args: string[]): string {
  return spawnSync("supervisorctl", ["-c", rendered.supervisord, ...args], { encoding: "utf8" }).stdout.trim();
}

/** The PID of a program of the stack (workerd's own: its command ends in exec). */
export const pidOf = (program: string) => Number(supervisorctl("pid", program));
