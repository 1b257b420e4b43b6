/** A Grafana time (now, now-15m, now-6h, now-2d) or an ISO time, as Unix seconds. */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

export function parseTime(text: string, now: number): number {
  if (text === "now") return now;
  const relative = text.match(/^now-(\d+)([smhdw])$/);
  if (relative)
    return now - Number(relative[1]) * UNIT_SECONDS[relative[2] as keyof typeof UNIT_SECONDS];
  const absolute = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(absolute)) return absolute / 1000;
  throw new Error(`${text} is not a time: now, now-<n><s|m|h|d|w> (now-1h) or an ISO time`);
}
