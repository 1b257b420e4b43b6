/** The range a dashboard is drawn over: Grafana's relative times (now-15m) or ISO times. */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** A Grafana time (now, now-15m, now-6h, now-2d) or an ISO time, as Unix seconds. */
export function parseTime(text: string, now: number): number {
  if (text === "now") return now;
  const relative = text.match(/^now-(\d+)([smhdw])$/);
  if (relative)
    return now - Number(relative[1]) * UNIT_SECONDS[relative[2] as keyof typeof UNIT_SECONDS];
  const absolute = Date.parse(text);
  // Date.parse takes odd strings ("1", "May 5"); only a date that starts as ISO's does is one.
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(absolute)) return absolute / 1000;
  throw new Error(`${text} is not a time: now, now-<n><s|m|h|d|w> (now-1h) or an ISO time`);
}

export interface TimeRange {
  /** Unix seconds. */
  from: number;
  to: number;
}

export function parseRange(from: string, to: string, now: number): TimeRange {
  const range = { from: parseTime(from, now), to: parseTime(to, now) };
  if (range.from >= range.to)
    throw new Error(`the range's start (${from}) is not before its end (${to})`);
  return range;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A time as people here read it: local, to the minute, with the offset from UTC. */
export function localTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())} (UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)})`;
}
