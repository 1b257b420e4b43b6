/**
 * Values in a panel's unit, as Grafana writes them: 12.3 ms, 45%, 3.2 req/s, 1.5 GiB. An axis
 * takes one scale for all its values (the largest's), so its ticks read alike.
 */
import type { Unit } from "./panels.ts";

export interface Scale {
  /** What a value is divided by. */
  divisor: number;
  /** Written after each value. */
  suffix: string;
  /** Digits after the point. */
  digits: number;
}

const BYTES = ["B", "KiB", "MiB", "GiB", "TiB"];
const SHORT = [
  { at: 1e9, suffix: " B" },
  { at: 1e6, suffix: " M" },
  { at: 1e3, suffix: " K" },
];

const digitsFor = (largest: number) => (largest >= 100 ? 0 : largest >= 10 ? 1 : 2);

/** The scale of a unit for values up to `largest` (in absolute value). */
export function scaleFor(unit: Unit, largest: number): Scale {
  const top = Math.abs(largest);
  switch (unit) {
    case "s":
      if (top < 1) return { divisor: 1e-3, suffix: " ms", digits: digitsFor(top * 1e3) };
      return { divisor: 1, suffix: " s", digits: digitsFor(top) };
    case "percentunit":
      return { divisor: 0.01, suffix: "%", digits: top >= 0.1 ? 0 : top >= 0.01 ? 1 : 2 };
    case "percent":
      return { divisor: 1, suffix: "%", digits: digitsFor(top) };
    case "reqps":
      return { divisor: 1, suffix: " req/s", digits: digitsFor(top) };
    case "bytes": {
      let power = 0;
      while (power < BYTES.length - 1 && top >= 1024 ** (power + 1)) power++;
      return { divisor: 1024 ** power, suffix: ` ${BYTES[power]}`, digits: power === 0 ? 0 : 1 };
    }
    case "short": {
      const step = SHORT.find((s) => top >= s.at);
      return step
        ? { divisor: step.at, suffix: step.suffix, digits: 1 }
        : { divisor: 1, suffix: "", digits: Number.isInteger(largest) ? 0 : digitsFor(top) };
    }
  }
}

export const formatIn = (scale: Scale, value: number) =>
  `${(value / scale.divisor).toFixed(scale.digits)}${scale.suffix}`;

/** One value on its own (a stat's, a bar's), in the scale it alone would have. */
export const formatValue = (unit: Unit, value: number) => formatIn(scaleFor(unit, value), value);
