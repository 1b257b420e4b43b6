/**
 * Any vega-lite chart as a PNG, headless: rendered to SVG by vega and rasterised by resvg, for the
 * bench's latency chart and the experiment report's. The font is Debian's DejaVu Sans
 * (fonts-dejavu-core, installed by `make setup`), named explicitly so the image does not depend on
 * what else is installed.
 */
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

const CHART_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

export async function vegaLitePng(spec: TopLevelSpec): Promise<Buffer> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return new Resvg(svg, {
    font: { fontFiles: [CHART_FONT], loadSystemFonts: false, defaultFontFamily: "DejaVu Sans" },
  })
    .render()
    .asPng();
}
