/**
 * The stack's logs, as an operator lives with them: each the stack's user's alone, each written by
 * supervisord (which caps and rotates it, so no program needs telling to reopen one), and every
 * line with its time.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { NGINX_ACCESS_LOG, programs, rendered } from "../../scripts/stack/render.ts";
import { paths } from "../../scripts/stack/settings.ts";
import { pidOf } from "../../scripts/stack/supervisor.ts";
import { basicAuth, predict, settings } from "./client.ts";

const logFiles = () => readdirSync(paths.logs).filter((name) => name.endsWith(".log"));

/** How each program of the stack starts its lines: each with the time. */
const TIMES = {
  "ISO 8601 (nginx's access log, supervisord, the watchdog, Prometheus)":
    /^(\{"time":"|ts=)?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}/,
  "nginx's error log, the exporter's (Go's log package)": /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /,
  "workerd's structured logging (ms since the epoch)": /^\{"timestamp":"?\d{13}"?,/,
  "glog's (mtail's): level, month and day, time": /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} /,
};

describe("the stack's logs", () => {
  it("are root's alone (the folder 0700, no file open to others), but nginx's access log, which the stack's group reads (mtail)", () => {
    expect(statSync(paths.logs).mode & 0o777).toBe(0o700);
    const asRoot = process.getuid?.() === 0;
    for (const name of readdirSync(paths.logs)) {
      const file = statSync(join(paths.logs, name));
      expect(file.mode & 0o027, name).toBe(0);
      if (asRoot && name !== NGINX_ACCESS_LOG) expect(file.gid, name).toBe(0);
    }
    // A link to the home's folder of it, root's, entered and read by the stack's group alone.
    expect(readlinkSync(join(paths.logs, NGINX_ACCESS_LOG))).toBe(rendered.nginxAccessLog);
    const folder = statSync(rendered.nginxLogs);
    expect(folder.mode & 0o7777).toBe(asRoot ? 0o2750 : 0o700);
    expect(statSync(rendered.nginxAccessLog).mode & 0o777).toBe(0o640);
    if (asRoot) expect(folder.gid).toBe(Number(execFileSync("id", ["-g", settings.stackUser])));
  });

  it("are written by supervisord alone, each capped at 20 MB with two older files kept: no program holds a file of the logs folder open", () => {
    // A program run on demand (rollout-promote) holds nothing open between its runs.
    for (const program of programs(settings).filter((p) => !p.onDemand)) {
      const fds = `/proc/${pidOf(program.name)}/fd`;
      const open = readdirSync(fds).map((fd) => {
        try {
          return readlinkSync(join(fds, fd));
        } catch {
          return ""; // closed meanwhile
        }
      });
      expect(
        open.filter((target) => target.startsWith(paths.logs)),
        program.name,
      ).toEqual([]);
    }
    let files = 0;
    for (const section of readFileSync(rendered.supervisord, "utf8").split(/^(?=\[)/m)) {
      for (const [, stream, file] of section.matchAll(/^((?:std(?:out|err)_)?logfile)=(\/.+)$/gm)) {
        files++;
        expect(section, file).toMatch(
          new RegExp(`^${stream}_maxbytes=20MB\n${stream}_backups=2$`, "m"),
        );
      }
    }
    expect(files).toBeGreaterThan(programs(settings).length);
  });

  it("give every line a time, in every log", async () => {
    // Something in the request logs first: a prediction (nginx) and a refusal (the gateway's log line).
    expect((await predict("log me")).status).toBe(200);
    expect((await predict("log me", { auth: basicAuth("nobody-here", "wrong") })).status).toBe(401);
    await sleep(1500); // nginx writes its access log out once a second
    for (const name of logFiles()) {
      const lines = readFileSync(join(paths.logs, name), "utf8").split("\n").filter(Boolean);
      const untimed = lines.filter((line) => !Object.values(TIMES).some((time) => time.test(line)));
      expect(
        untimed.slice(0, 3),
        `${name}: ${untimed.length} of ${lines.length} lines without a time`,
      ).toEqual([]);
    }
    expect(logFiles()).toEqual(
      expect.arrayContaining([
        "nginx-access.log",
        "nginx.log",
        "gateway.log",
        "watchdog.log",
        "supervisord.log",
      ]),
    );
  });
});
