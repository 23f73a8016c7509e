import { describe, expect, it } from "vitest";
import { renderChart, type ChartSpec } from "./index.ts";

const bars = (n: number): ChartSpec => ({
  width: 300, height: 150, data: { values: Array.from({ length: n }, (_, i) => ({ g: `g${i}`, v: i })) },
  mark: "bar", encoding: { x: { field: "g", type: "nominal" }, y: { field: "v", type: "quantitative", scale: { type: "log" } } },
});

describe("renderChart", () => {
  it("renders vega-lite to SVG without stalling the caller's event loop", async () => {
    let longest = 0, last = performance.now();
    const timer = setInterval(() => { const now = performance.now(); longest = Math.max(longest, now - last); last = now; }, 5);
    const svgs = await Promise.all([bars(5), bars(50), bars(20)].map(renderChart));
    clearInterval(timer);
    for (const svg of svgs) expect(svg).toMatch(/^<svg [^>]*class="marks"/);
    expect(svgs[1]).toContain("g49");
    expect(longest).toBeLessThan(150); // rendering on this thread took 500+ ms for three charts
  });

  it("rejects a spec vega-lite cannot compile, and keeps working", async () => {
    await expect(renderChart({ mark: "nonsense" } as unknown as ChartSpec)).rejects.toThrow(/chart rendering failed/);
    expect(await renderChart(bars(2))).toContain("<svg");
  });
});
