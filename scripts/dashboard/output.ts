import { join } from "node:path";
import { ROOT } from "../stack/settings.ts";

/** Where make dashboard writes its page and PNGs. */
export const DASHBOARD_OUTPUT = join(ROOT, ".state/dashboard");
