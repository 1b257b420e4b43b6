import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readWranglerConfig, type WorkerName } from "./settings.ts";
import { workerdConfig, type WorkerdProcessConfig } from "./workerd-config.ts";

const bundle = mkdtempSync(join(tmpdir(), "bundle-"));
writeFileSync(join(bundle, "index.js"), "export default {}");

/** A config for `worker` with a stand-in value for everything its wrangler.toml asks for. */
function generated(worker: WorkerName, overrides: Partial<WorkerdProcessConfig> = {}): string {
  const wrangler = readWranglerConfig(worker);
  return workerdConfig({
    worker,
    bundle: { here: bundle, seenAt: bundle },
    configDir: bundle,
    trafficAddress: "unix:/run/test/http.sock",
    opsAddress: "127.0.0.1:1",
    vars: Object.fromEntries(
      Object.keys(wrangler.vars ?? {}).map((name) => [name, `value of ${name}`]),
    ),
    secrets: Object.fromEntries(
      (wrangler.secrets?.required ?? []).map((name) => [name, `secret ${name}`]),
    ),
    serviceAddresses: Object.fromEntries(
      (wrangler.services ?? []).map((s) => [s.service, `unix:/run/test/${s.service}.sock`]),
    ),
    durableObjectsDir: "/var/test/do",
    ...overrides,
  });
}

describe("workerd configs generated from wrangler.toml", () => {
  for (const worker of ["gateway", "v1", "v2"] as const) {
    it(`carries every var, secret, Durable Object and service binding of ${worker}'s wrangler.toml`, () => {
      const wrangler = readWranglerConfig(worker);
      const config = generated(worker);
      const names = [
        ...Object.keys(wrangler.vars ?? {}),
        ...(wrangler.secrets?.required ?? []),
        ...(wrangler.durable_objects?.bindings ?? []).map((d) => d.name),
        ...(wrangler.services ?? []).map((s) => s.binding),
      ];
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(config).toContain(`(name = "${name}", `);
      for (const [name] of Object.entries(wrangler.vars ?? {}))
        expect(config).toContain(`(name = "${name}", text = "value of ${name}")`);
      for (const s of wrangler.services ?? [])
        expect(config).toContain(
          `(name = "${s.service}", external = (address = "unix:/run/test/${s.service}.sock", http = ()))`,
        );
      expect(config).toContain(`compatibilityDate = "${wrangler.compatibility_date}"`);
    });
  }

  it("makes the gateway's Durable Object class a SQLite namespace on local disk, as its migration says", () => {
    expect(generated("gateway")).toMatch(
      /className = "RateLimiter", uniqueKey = "fortress-gateway-RateLimiter", enableSql = true/,
    );
    expect(generated("gateway")).toContain(`disk = (path = "/var/test/do", writable = true)`);
  });

  it("refuses to generate a config without a value for a var, a secret or a service's address", () => {
    expect(() => generated("gateway", { vars: {} })).toThrow(
      /no value for RATE_LIMIT_RPS \(wrangler.toml \[vars\]\)/,
    );
    expect(() => generated("gateway", { secrets: {} })).toThrow(
      /no value for the secret API_USERS/,
    );
    expect(() => generated("gateway", { serviceAddresses: {} })).toThrow(
      /no address for the service fortress-v1/,
    );
  });

  it("serves the Ops entrypoint on the ops address only when there is one", () => {
    expect(generated("v1")).toContain(
      `(name = "ops", address = "127.0.0.1:1", http = (), service = (name = "main", entrypoint = "Ops"))`,
    );
    expect(generated("bench-inference", { opsAddress: undefined })).not.toContain(`"ops"`);
  });

  it("serves the gateway's Admin entrypoint on its admin address, and nothing else on it", () => {
    const config = generated("gateway", { adminAddress: "unix:/run/test/admin/gateway.sock" });
    expect(config).toContain(
      `(name = "admin", address = "unix:/run/test/admin/gateway.sock", http = (), service = (name = "main", entrypoint = "Admin"))`,
    );
    expect(generated("gateway")).not.toContain(`"admin"`);
  });
});
