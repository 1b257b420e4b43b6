/**
 * deployments/mtail/predict.mtail run by the real mtail (make setup installs it), in one-shot
 * mode over a sample of nginx's lines, as its datagram socket receives them.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSettings, ROOT } from "../stack/settings.ts";
import { mtailProgram } from "./mtail-program.ts";
import { LATENCY_BUCKETS, METRICS } from "./objectives.ts";

const PROGRAMS = join(ROOT, "deployments/mtail");

/** Non-debug lines: their status and $request_time. */
const COUNTED = [
  ["200", "0.004"],
  ["200", "0.000"], // within the millisecond
  ["200", "0.010"], // on a bound: within it
  ["200", "0.050"], // on the threshold: within it
  ["200", "0.051"],
  ["200", "0.120"],
  ["200", "1.300"],
  ["429", "0.000"], // nginx's own limit: an answer, not an error
  ["502", "0.030"],
  ["503", "0.002"],
  ["503", "6.000"], // past the last bound
] as const;

const LOG = [
  ...COUNTED.map(([status, rt], i) =>
    // The syslog prefix varies (priority, date, tag): the program reads from "predict status=".
    i % 2 === 0
      ? `<190>Dec  1 22:00:0${i % 10} fortress_slo: predict status=${status} rt=${rt} group=""`
      : `<190>Dec 11 09:15:42 fortress_slo: predict status=${status} rt=${rt} group="canary"`,
  ),
  // Debug traffic is no SLO event, whatever its answer.
  '<190>Dec  1 22:00:00 fortress_slo: predict status=503 rt=0.004 group="debug"',
  '<190>Dec  1 22:00:00 fortress_slo: predict status=200 rt=2.000 group="debug"',
  '<190>Dec  1 22:00:00 fortress_slo: predict status=502 rt=0.000 group="debug"',
  // As the gateway reads the header: trimmed, in any case.
  '<190>Dec  1 22:00:00 fortress_slo: predict status=503 rt=0.004 group="Debug"',
  '<190>Dec  1 22:00:00 fortress_slo: predict status=503 rt=0.004 group=" DEBUG "',
  // Not a line of nginx's slo format.
  "<190>Dec  1 22:00:00 something else entirely",
];

const scratch = mkdtempSync(join(tmpdir(), "slo-mtail-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** mtail's one-shot Prometheus text for the committed programs over `lines`, as name{labels} → value. */
function runMtail(lines: string[]): Map<string, number> {
  const log = join(scratch, "nginx-slo.log");
  writeFileSync(log, `${lines.join("\n")}\n`);
  const text = execFileSync(
    "mtail",
    // Port 0: never the running stack's mtail port.
    [
      "--one_shot",
      "--one_shot_format",
      "prometheus",
      "--progs",
      PROGRAMS,
      "--logs",
      log,
      "--address",
      "127.0.0.1",
      "--port",
      "0",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = line.match(/^(\w+)\{(.*)\} (\S+)$/);
    if (!match) continue;
    // mtail labels each series with its program: the rules sum it away.
    const labels = match[2]!.replace(/prog="predict\.mtail",?/, "");
    samples.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return samples;
}

describe("deployments/mtail/predict.mtail", () => {
  it("is exactly what scripts/slo/mtail-program.ts generates from the bucket list", () => {
    expect(readFileSync(join(PROGRAMS, "predict.mtail"), "utf8")).toBe(mtailProgram());
  });

  it("counts every non-debug /predict by status, and its latency in the histogram's buckets", () => {
    const samples = runMtail(LOG);
    const counter = [...samples].filter(([key]) => key.startsWith(`${METRICS.requests}{`));
    expect(Object.fromEntries(counter)).toEqual({
      [`${METRICS.requests}{status="200"}`]: 7,
      [`${METRICS.requests}{status="429"}`]: 1,
      [`${METRICS.requests}{status="502"}`]: 1,
      [`${METRICS.requests}{status="503"}`]: 2,
    });
    const within = (bound: number) => COUNTED.filter(([, rt]) => Number(rt) <= bound).length;
    for (const bound of LATENCY_BUCKETS)
      expect(samples.get(`${METRICS.seconds}_bucket{le="${bound}"}`), `le=${bound}`).toBe(
        within(bound),
      );
    expect(samples.get(`${METRICS.seconds}_bucket{le="+Inf"}`)).toBe(COUNTED.length);
    expect(samples.get(`${METRICS.seconds}_count{}`)).toBe(COUNTED.length);
    // The rules' le selector is the threshold as settings hold it: a series mtail does export.
    const { latencySeconds } = loadSettings({}).slo;
    expect(samples.get(`${METRICS.seconds}_bucket{le="${latencySeconds}"}`)).toBe(within(0.05));
    // Spelled out: 0.000 in the first bucket, each bound within itself, 6 s only in +Inf.
    expect([0.01, 0.05, 0.1, 1, 5].map((bound) => within(bound))).toEqual([5, 7, 8, 9, 10]);
  });

  it("exports the histogram at zero before any request, and no counter series", () => {
    const samples = runMtail([
      '<190>Dec  1 22:00:00 fortress_slo: predict status=200 rt=0.004 group="debug"',
    ]);
    expect(samples.get(`${METRICS.seconds}_count{}`)).toBe(0);
    expect([...samples.keys()].filter((key) => key.startsWith(METRICS.requests))).toEqual([]);
  });
});
