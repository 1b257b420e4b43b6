/**
 * A copy of this checkout in a new temporary folder, for tests that render or change a stack of
 * their own: its files as git sees them (tracked and new, not ignored), its installed packages
 * (a link) and its built bundles.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, WRANGLER_CONFIGS } from "./settings.ts";

export function copyOfCheckout(prefix: string): string {
  const copy = mkdtempSync(join(tmpdir(), prefix));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const file of files)
    if (existsSync(join(ROOT, file)))
      cpSync(join(ROOT, file), join(copy, file), { recursive: true, verbatimSymlinks: true });
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
  for (const worker of Object.keys(WRANGLER_CONFIGS))
    if (existsSync(join(ROOT, "dist", worker)))
      cpSync(join(ROOT, "dist", worker), join(copy, "dist", worker), { recursive: true });
  return copy;
}
