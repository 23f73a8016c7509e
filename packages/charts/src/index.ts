export { renderChart } from "./render.ts";
export type { ChartSpec } from "./render.ts";
