/**
 * Text in the charts, measured without a canvas: how many characters fit where, and how a name
 * or title too long for its place is cut or broken.
 */
export const TITLE_FONT = 14;
export const LABEL_FONT = 12;
/** DejaVu Sans's average advance, as a share of its size: how text is measured here. */
export const CHAR_EM = 0.6;
/** Its bold digits' (a stat's value). */
export const BOLD_CHAR_EM = 0.72;
/**
 * How vega measures text without a canvas (0.8 em a character): what its legend columns and
 * label limits go by, so a layout computed for vega has to use it.
 */
export const VEGA_CHAR_EM = 0.8;

/** Text cut to a number of characters, with an ellipsis to say so. */
export const cut = (text: string, chars: number) =>
  text.length > chars ? `${text.slice(0, Math.max(1, chars - 1))}…` : text;

/**
 * Names cut to a number of characters in their middle, where series' names differ least (their
 * start says what, their end which: "v1 stable … 200"), and kept apart if cutting made two alike.
 */
export function shorten(names: string[], chars: number): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const head = Math.ceil((chars - 1) / 2);
    const short =
      name.length > chars
        ? `${name.slice(0, head)}…${name.slice(name.length - (chars - 1 - head))}`
        : name;
    const count = seen.get(short) ?? 0;
    seen.set(short, count + 1);
    return count === 0 ? short : `${short} (${count + 1})`;
  });
}

/**
 * A title broken into lines that fit a width, at word boundaries, as vega measures them: a line
 * it thinks wider than the chart widens the picture, leaving white space at the right.
 */
export function wrap(text: string, width: number, fontSize: number): string[] {
  const perLine = Math.max(10, Math.floor(width / (fontSize * VEGA_CHAR_EM)));
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && `${line} ${word}`.length > perLine) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}
