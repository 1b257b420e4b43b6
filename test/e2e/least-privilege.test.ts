/**
 * Started as root, the stack keeps root to the two processes that need it (supervisord, and
 * nginx's master for the public ports); the rest runs as the stack's own user, and its unix
 * sockets are out of reach of every other local user but nginx's workers.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rendered } from "../../scripts/stack/render.ts";
import { paths, workerProcesses } from "../../scripts/stack/settings.ts";
import { settings } from "./client.ts";

const asRoot = process.getuid?.() === 0;

/** A process's real and effective uid, its parent and its command line. */
function processInfo(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const [real, effective] = status
    .match(/^Uid:\s+(\d+)\s+(\d+)/m)!
    .slice(1)
    .map(Number);
  return {
    pid,
    ppid: Number(status.match(/^PPid:\s+(\d+)/m)![1]),
    uids: [real!, effective!],
    command: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim(),
  };
}

/** supervisord and every process under it. */
function stackProcesses() {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        return [processInfo(Number(name))];
      } catch {
        return []; // ended meanwhile
      }
    });
  const tree = [all.find((p) => p.pid === Number(readFileSync(rendered.supervisordPid, "utf8")))!];
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i]!.pid));
  return tree;
}

const idOf = (flag: "-u" | "-g", user: string) =>
  Number(execFileSync("id", [flag, user], { encoding: "utf8" }));

/**
 * What a process of `user` (its own group only) gets when it connects to the unix socket:
 * "connected", or the error's code.
 */
function connectAs(user: string, socket: string): string {
  const script = `require("node:net").connect(${JSON.stringify(socket)}).on("connect", () => { console.log("connected"); process.exit(0); }).on("error", (e) => { console.log(e.code); process.exit(0); })`;
  const run = spawnSync(
    "setpriv",
    [
      "--reuid",
      String(idOf("-u", user)),
      "--regid",
      String(idOf("-g", user)),
      "--clear-groups",
      process.execPath,
      "-e",
      script,
    ],
    { encoding: "utf8", timeout: 10_000 },
  );
  return run.stdout.trim() || run.stderr.trim();
}

/** Every unix socket in the runtime folder: supervisord's and nginx's pools', and workerd's in theirs. */
const sockets = () =>
  [paths.run, paths.workerSockets, paths.adminSockets].flatMap((folder) =>
    readdirSync(folder)
      .map((name) => join(folder, name))
      .filter((path) => statSync(path).isSocket()),
  );

describe.runIf(asRoot)("started as root", () => {
  it("runs no process as root but supervisord and nginx's master; the rest as the stack's user, nginx's workers as theirs", () => {
    const stackUid = idOf("-u", settings.stackUser);
    const nginxWorkerUid = idOf("-u", settings.nginxWorkerUser);
    const processes = stackProcesses();
    const supervisord = processes[0]!;
    expect(supervisord.command).toContain("supervisord");
    expect(processes.length).toBeGreaterThan(8);
    for (const p of processes) {
      const [real, effective] = p.uids;
      expect(real, p.command).toBe(effective);
      if (p === supervisord || p.command.startsWith("nginx: master"))
        expect(real, p.command).toBe(0);
      else if (p.command.startsWith("nginx: ")) expect(real, p.command).toBe(nginxWorkerUid);
      else expect(real, p.command).toBe(stackUid);
    }
  });

  it("lets no process of another local user (www-data, nobody) connect to any of its unix sockets", () => {
    const found = sockets();
    expect(found.length).toBeGreaterThan(5);
    for (const user of ["www-data", "nobody"])
      for (const socket of found)
        expect(connectAs(user, socket), `${user}: ${socket}`).toBe("EACCES");
  });

  it("lets nginx's workers' user connect to the workers' and pools' sockets, and not to supervisord's nor the consumers' management", () => {
    const gateway = workerProcesses(settings).find((p) => p.worker === "gateway")!;
    expect(sockets()).toContain(gateway.adminSocket);
    for (const socket of sockets())
      expect(connectAs(settings.nginxWorkerUser, socket), socket).toBe(
        socket === rendered.supervisorSocket || socket === gateway.adminSocket
          ? "EACCES"
          : "connected",
      );
  });
});

describe("the TCP ports on 127.0.0.1, which every local user reaches", () => {
  it("make no prediction: each workerd process's ops port answers /predict with 404", async () => {
    const ports = workerProcesses(settings).map((p) => p.opsPort);
    for (const port of ports) {
      const response = await fetch(`http://127.0.0.1:${port}/predict`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sentence: "I love this!" }),
      });
      expect(response.status, `port ${port}`).toBe(404);
    }
  });

  it("do not let Prometheus be stopped or its storage changed (its lifecycle and admin APIs are off)", async () => {
    const base = `http://127.0.0.1:${settings.prometheusPort}`;
    expect((await fetch(`${base}/-/quit`, { method: "POST" })).status).toBe(403);
    const deletion = await fetch(`${base}/api/v1/admin/tsdb/delete_series?match[]=up`, {
      method: "POST",
    });
    expect(await deletion.text()).toContain("admin APIs disabled");
  });
});
