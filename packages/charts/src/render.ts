import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export type ChartSpec = TopLevelSpec;

/**
 * Compiles a vega-lite spec and renders it to an SVG string on the server (no DOM, no
 * browser), so a report embeds its charts inline and opens offline.
 *
 *     const svg = await renderChart({ data: { values: rows }, mark: "bar", encoding: { x: { field: "group" }, y: { field: "users", type: "quantitative" } } });
 */
export async function renderChart(spec: ChartSpec): Promise<string> {
  const compiled = compile({ background: "white", ...spec } as TopLevelSpec);
  // renderer "none": no canvas or DOM needed; toSVG still builds the scenegraph.
  const view = new vega.View(vega.parse(compiled.spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
