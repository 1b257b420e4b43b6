import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { rolloutRules } from "../experiment/rollout-rules.ts";
import { composeFile } from "./compose.ts";
import { renderTemplate } from "./render.ts";
import { loadSettings, parseEnvFile, ROOT, workerProcesses } from "./settings.ts";

describe("docker-compose.yml", () => {
  it("is exactly what `make compose` generates from the settings", () => {
    expect(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")).toBe(
      composeFile(loadSettings({})),
    );
  });

  const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"));

  it("runs one container per process of the native stack", () => {
    const settings = loadSettings({});
    const expected = [
      ...workerProcesses(settings).map((p) => p.name),
      "nginx",
      "nginx-exporter",
      "prometheus",
      "grafana",
    ];
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(expected));
  });

  it("serves each workerd container from the config rendered for it", () => {
    for (const process of workerProcesses(loadSettings({}))) {
      expect(compose.services[process.name].command.join(" ")).toContain(
        `/app/.state/docker/workerd/${process.name}/workerd.capnp`,
      );
    }
  });
});

describe("settings", () => {
  it("reads KEY=value lines and skips comments", () => {
    expect(parseEnvFile("# note\nA=1\n\nB = x\nC=two words\n")).toEqual({ A: "1", C: "two words" });
  });

  it("lets the environment override the file and wrangler.toml's rate limit", () => {
    const settings = loadSettings({ HTTPS_PORT: "8443", RATE_LIMIT_RPS: "500" });
    expect(settings.httpsPort).toBe(8443);
    expect(settings.gatewayVars.RATE_LIMIT_RPS).toBe("500");
    expect(settings.gatewayVars.CLIENT_IP_HEADER).toBe("X-Real-IP");
  });

  it("refuses a port that is not one", () => {
    expect(() => loadSettings({ HTTP_PORT: "http" })).toThrow(/HTTP_PORT=http is not a port/);
  });

  it("refuses two servers on one port, naming both, a variant's replicas included", () => {
    expect(() => loadSettings({ PROMETHEUS_PORT: "9200" })).toThrow(
      /gateway's ops port and PROMETHEUS_PORT would both listen on port 9200|PROMETHEUS_PORT and gateway's ops port would both listen on port 9200/,
    );
    // v1's replicas take 9201 and up: ten of them reach v2's 9210.
    expect(() => loadSettings({ V1_REPLICAS: "10" })).toThrow(
      /v2's ops port and v1-9's ops port would both listen on port 9210/,
    );
    expect(() => loadSettings({ V2_OPS_PORT: "65535", V2_REPLICAS: "2" })).toThrow(
      /v2-1's ops port would listen on 65536, which is not a port/,
    );
  });
});

describe("renderTemplate", () => {
  it("fills placeholders and refuses one without a value", () => {
    expect(renderTemplate("a ${X} $nginx_var", { X: "1" })).toBe("a 1 $nginx_var");
    expect(() => renderTemplate("${MISSING}", {})).toThrow(/MISSING/);
  });
});

describe("rollout settings", () => {
  it("refuses an unknown model version or a percentage outside 0-100, naming the setting", () => {
    expect(() => loadSettings({ V1_MODEL: "0123456789ab" })).toThrow(
      /V1_MODEL=0123456789ab is not a model version \(model\/versions\/<version>; make models lists them\)/,
    );
    expect(() => loadSettings({ V2_MODEL: "../../etc" })).toThrow(
      /V2_MODEL=..\/..\/etc is not a model version/,
    );
    expect(() => loadSettings({ CANARY_PERCENT: "101" })).toThrow(
      /CANARY_PERCENT=101 is not a percentage \(0-100\)/,
    );
    expect(() => loadSettings({ SHADOW_PERCENT: "-5" })).toThrow(
      /SHADOW_PERCENT=-5 is not a percentage/,
    );
  });
});

describe("deployments/prometheus/rollout-rules.yml", () => {
  it("is exactly what `make rollout-rules` generates from the report's thresholds", () => {
    expect(readFileSync(join(ROOT, "deployments/prometheus/rollout-rules.yml"), "utf8")).toBe(
      rolloutRules(),
    );
  });
});

describe("the model selection of make promote / make rollback", () => {
  it("outlives a restart: the settings read it over settings.env, and the environment over it", () => {
    const selection = join(mkdtempSync(join(tmpdir(), "selection-")), "model-selection.env");
    const [baseline, candidate] = [
      loadSettings({}, selection).variants.v1.model,
      loadSettings({}, selection).variants.v2.model,
    ];
    writeFileSync(selection, `V1_MODEL=${candidate}\nV1_MODEL_BEFORE=${baseline}\n`);
    expect(loadSettings({}, selection).variants.v1.model).toBe(candidate);
    expect(loadSettings({ V1_MODEL: baseline }, selection).variants.v1.model).toBe(baseline);
  });
});
