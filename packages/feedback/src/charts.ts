import { renderChart, type ChartSpec } from "@recsys/charts";
import type { SeriesPoint } from "./experiment.ts";

/** The charted measures, in report order, with their axis titles. */
export const CHARTED: Array<{ metric: string; title: string; axis: string; percent?: boolean }> = [
  { metric: "coverage", title: "catalogue coverage (share shown this round)", axis: "coverage", percent: true },
  { metric: "exposureGini", title: "exposure Gini (0 = even)", axis: "Gini" },
  { metric: "top1Share", title: "top 1% of movies' share of watches", axis: "top 1% share", percent: true },
  { metric: "homogenisation", title: "homogenisation (mean Jaccard of consumed sets)", axis: "mean Jaccard" },
  { metric: "utility", title: "true utility per visit (stars, 0 when nothing is picked)", axis: "stars per visit" },
  { metric: "rmse", title: "RMSE on the round's fresh ratings", axis: "RMSE" },
  { metric: "pushedInGroupShare", title: "pushed movie: share of its watchers in the pushed group", axis: "in-group share", percent: true },
];

/**
 * One vega-lite chart per measure: a panel per exploration share side by side (shared y axis),
 * the mean over seeds as a line and the band from the lowest to the highest seed as a shaded area.
 * `colorBy` draws several series per panel (the per-group RMSE).
 */
export function bandChart(rows: ReadonlyArray<SeriesPoint & { series?: string }>, axis: string, percent = false): ChartSpec {
  const y = { type: "quantitative" as const, title: axis, ...(percent ? { axis: { format: "%" } } : {}), scale: { zero: false } };
  const color = rows.some((r) => r.series) ? { color: { field: "series", type: "nominal" as const, title: null } } : {};
  return {
    data: { values: rows.map((r) => ({ ...r, epsilon: `ε = ${r.epsilon}` })) },
    facet: { column: { field: "epsilon", type: "nominal", title: null } },
    spec: {
      width: 220, height: 150,
      layer: [
        { mark: { type: "area", opacity: 0.2 }, encoding: { x: { field: "round", type: "quantitative", title: "round", axis: { tickMinStep: 1 } }, y: { ...y, field: "low" }, y2: { field: "high" }, ...color } },
        { mark: { type: "line", point: true }, encoding: { x: { field: "round", type: "quantitative" }, y: { ...y, field: "mean" }, ...color } },
      ],
    },
    resolve: { scale: { y: "shared" } },
  } as ChartSpec;
}

/** Every chart of the report as SVG, with its heading. */
export async function reportCharts(series: readonly SeriesPoint[]): Promise<Array<{ title: string; svg: string }>> {
  const charts = CHARTED.map((c) => ({ title: c.title, axis: c.axis, rows: series.filter((p) => p.metric === c.metric), percent: c.percent }));
  for (const kind of ["gender", "age"]) {
    const rows = series.filter((p) => p.metric.startsWith(`rmse:${kind}:`)).map((p) => ({ ...p, series: p.metric.slice(`rmse:${kind}:`.length) }));
    charts.push({ title: `RMSE on the round's fresh ratings, per ${kind} group`, axis: "RMSE", rows, percent: undefined });
  }
  const drawn = charts.filter((c) => c.rows.length > 0);
  const svgs = await Promise.all(drawn.map((c) => renderChart(bandChart(c.rows, c.axis, c.percent))));
  return drawn.map((c, i) => ({ title: c.title, svg: svgs[i]! }));
}
