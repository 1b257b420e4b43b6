/**
 * Grafana's named colours (its palette's shades, as its JSON names them in thresholds), and the
 * text colour that stays readable on each: Grafana's light greens and yellows take dark text.
 */
const SHADES = {
  green: ["#C8F2C2", "#96D98D", "#73BF69", "#56A64B", "#37872D"],
  red: ["#FFA6B0", "#FF7383", "#F2495C", "#E02F44", "#C4162A"],
  orange: ["#FFCB7D", "#FFB357", "#FF9830", "#FF780A", "#FA6400"],
  yellow: ["#FFF899", "#FFEE52", "#FADE2A", "#F2CC0C", "#E0B400"],
  blue: ["#C0D8FF", "#8AB8FF", "#5794F2", "#3274D9", "#1F60C4"],
  purple: ["#DEB6F2", "#CA95E5", "#B877D9", "#A352CC", "#8F3BB8"],
};
const PREFIXES = ["super-light-", "light-", "", "semi-dark-", "dark-"];

export const GRAFANA_COLORS: Record<string, string> = Object.fromEntries(
  Object.entries(SHADES).flatMap(([hue, shades]) =>
    shades.map((hex, i) => [`${PREFIXES[i]}${hue}`, hex]),
  ),
);

/** Grafana's colour of a value with no threshold to colour it (its classic palette's first). */
export const DEFAULT_VALUE_COLOR = GRAFANA_COLORS.green;

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** The colour a Grafana colour name or hex stands for; undefined for anything else. */
export function cssColor(name: string): string | undefined {
  return GRAFANA_COLORS[name] ?? (HEX.test(name) ? name : undefined);
}

/** Dark text on a light background, white on a dark one (WCAG relative luminance). */
export function textColorOn(hex: string): string {
  const digits =
    hex.length === 4
      ? [...hex.slice(1)].map((d) => d + d)
      : [1, 3, 5].map((i) => hex.slice(i, i + 2));
  const [r = 0, g = 0, b = 0] = digits.map((d) => {
    const channel = Number.parseInt(d, 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.2 ? "#1f1f1f" : "#ffffff";
}
