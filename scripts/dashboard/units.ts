/**
 * Values in a panel's unit, as Grafana writes them: 12.3 ms, 45.6%, 3.2 req/s, 1.5 GiB, 12.3 K.
 * An axis takes one scale for all its ticks (its largest value's), so they read alike.
 */
import type { Unit } from "./panels.ts";

export interface Scale {
  /** What a value is divided by. */
  divisor: number;
  /** Written after each value. */
  suffix: string;
  /** The unit in words, for an axis's title ("" when a number is just a number). */
  name: string;
}

const TIME = [
  { at: 86_400, suffix: " day", name: "days" },
  { at: 3600, suffix: " hour", name: "hours" },
  { at: 60, suffix: " min", name: "minutes" },
  { at: 1, suffix: " s", name: "seconds" },
  { at: 1e-3, suffix: " ms", name: "milliseconds" },
  { at: 1e-6, suffix: " µs", name: "microseconds" },
];
const SECONDS = TIME[3]!;
const MICROSECONDS = TIME[5]!;
const BYTES = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
/** Grafana's "short": thousands as K, Mil, Bil, Tri. */
const SHORT = ["", " K", " Mil", " Bil", " Tri"];

function thousands(top: number, base: number, steps: number): number {
  let power = 0;
  while (power < steps - 1 && top >= base ** (power + 1)) power++;
  return power;
}

/** The scale of a unit for values up to `largest` (in absolute value). */
export function scaleFor(unit: Unit, largest: number): Scale {
  const top = Math.abs(largest);
  switch (unit) {
    case "none":
      return { divisor: 1, suffix: "", name: "" };
    case "s": {
      // Zero is written in seconds, as Grafana does.
      const chosen = (top === 0 ? SECONDS : TIME.find((t) => top >= t.at)) ?? MICROSECONDS;
      return { divisor: chosen.at, suffix: chosen.suffix, name: chosen.name };
    }
    case "percentunit":
      return { divisor: 0.01, suffix: "%", name: "percent" };
    case "percent":
      return { divisor: 1, suffix: "%", name: "percent" };
    case "reqps": {
      const power = thousands(top, 1000, SHORT.length);
      return {
        divisor: 1000 ** power,
        suffix: `${SHORT[power] ?? ""} req/s`,
        name: "requests per second",
      };
    }
    case "bytes": {
      const power = thousands(top, 1024, BYTES.length);
      return { divisor: 1024 ** power, suffix: ` ${BYTES[power] ?? ""}`, name: BYTES[power] ?? "" };
    }
    case "short": {
      const power = thousands(top, 1000, SHORT.length);
      return { divisor: 1000 ** power, suffix: SHORT[power] ?? "", name: "" };
    }
  }
}

/** A number with about three significant digits, no trailing zeros (Grafana's auto decimals). */
export function formatNumber(value: number): string {
  if (value === 0) return "0";
  const digits = Math.min(4, Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value)))));
  return String(Number(value.toFixed(digits)));
}

export const formatIn = (scale: Scale, value: number) =>
  `${formatNumber(value / scale.divisor)}${scale.suffix}`;

/** One value on its own (a stat's, a bar's), in the scale it alone would have. */
export const formatValue = (unit: Unit, value: number) => formatIn(scaleFor(unit, value), value);
