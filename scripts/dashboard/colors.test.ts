import { describe, expect, it } from "vitest";
import { cssColor, textColorOn } from "./colors.ts";

describe("a threshold's colour", () => {
  it("is Grafana's shade for its name, and a hex as it is", () => {
    expect(cssColor("green")).toBe("#73BF69");
    expect(cssColor("dark-red")).toBe("#C4162A");
    expect(cssColor("semi-dark-orange")).toBe("#FF780A");
    expect(cssColor("#abc")).toBe("#abc");
    expect(cssColor("#12ab9f")).toBe("#12ab9f");
  });

  it("is nothing for a name Grafana does not have", () => {
    expect(cssColor("teal")).toBeUndefined();
    expect(cssColor("#12345")).toBeUndefined();
  });
});

describe("text on a colour", () => {
  it("is dark on light colours and white on dark ones", () => {
    expect(textColorOn("#FADE2A")).toBe("#1f1f1f");
    expect(textColorOn("#ffffff")).toBe("#1f1f1f");
    expect(textColorOn("#1F60C4")).toBe("#ffffff");
    expect(textColorOn("#000")).toBe("#ffffff");
  });
});
