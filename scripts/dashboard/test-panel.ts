/** A panel of one type for the renderer's tests, its fields and options as given. */
import { type Panel, parsePanel } from "./panels.ts";

export const panelOf = (type: string, defaults: object = {}, options: object = {}): Panel =>
  parsePanel(
    {
      id: 1,
      title: "A panel",
      type,
      gridPos: { x: 0, y: 0, w: 12, h: 8 },
      fieldConfig: { defaults },
      options,
      targets: [{ expr: "q", legendFormat: "{{job}}" }],
    },
    0,
  );
