import { renderChart, type ChartSpec } from "@recsys/charts";
import type { CanaryAnalysis } from "./analyze.ts";
import { releaseRows } from "./format.ts";

const CANARY_COLOR = "#e8590c";
const STABLE_COLORS = ["#1c7ed6", "#2f9e44", "#7048e8", "#0c8599", "#868e96", "#5c940d"];
const POOLED_COLOR = "#343a40";
const WIDTH = 560, HEIGHT = 220;

function colorScale(a: CanaryAnalysis, extra: { name: string; color: string }[] = []) {
  const named = [{ name: a.canary, color: CANARY_COLOR }, ...a.stable.map((s, i) => ({ name: s, color: STABLE_COLORS[i % STABLE_COLORS.length]! })), ...extra];
  return { domain: named.map((n) => n.name), range: named.map((n) => n.color) };
}

function bucketText(bucketMs: number): string {
  return `per ${bucketMs >= 60_000 ? `${bucketMs / 60_000} min` : `${bucketMs / 1000} s`}, UTC`;
}

/** One line per release over the time buckets, with the limit as a labelled dashed rule. */
function timeSeriesSpec(a: CanaryAnalysis, title: string, pick: (s: CanaryAnalysis["timeSeries"]["perRelease"][string]) => (number | null)[], limit: { y: number; label: string }, y: Record<string, unknown>): ChartSpec {
  const ts = a.timeSeries;
  const values = Object.entries(ts.perRelease).flatMap(([release, s]) => pick(s).flatMap((v, b) => (v === null ? [] : [{ release, t: ts.bucketStartsMs[b]! + ts.bucketMs / 2, v }])));
  const yEnc = { field: "v", type: "quantitative" as const, title: null, ...y };
  return {
    title: `${title} (${bucketText(ts.bucketMs)})`, width: WIDTH, height: HEIGHT,
    layer: [
      { data: { values }, mark: { type: "line", point: true },
        encoding: { x: { field: "t", type: "temporal", scale: { type: "utc" }, title: null }, y: yEnc, color: { field: "release", type: "nominal", scale: colorScale(a), title: null } } },
      { data: { values: [{ v: limit.y, label: limit.label }] }, mark: { type: "rule", color: "#c92a2a", strokeDash: [5, 4] }, encoding: { y: yEnc } },
      { data: { values: [{ v: limit.y, label: limit.label }] }, mark: { type: "text", color: "#c92a2a", align: "right", dy: -6, x: "width" }, encoding: { y: yEnc, text: { field: "label" } } },
    ],
  };
}

/** Follow rate per release with its Wilson 95% CI. */
function followSpec(a: CanaryAnalysis): ChartSpec {
  const values = releaseRows(a).filter((r) => r.stats.followRate !== null).map((r) => ({
    release: r.label.replace(/ \(canary\)$/, ""), label: r.label, rate: r.stats.followRate!, lo: r.stats.followCi![0], hi: r.stats.followCi![1], n: r.stats.followEligible,
  }));
  const x = { field: "label", type: "nominal" as const, sort: values.map((v) => v.label), title: null, axis: { labelAngle: 0 } };
  const color = { field: "release", type: "nominal" as const, scale: colorScale(a, [{ name: "stable (pooled)", color: POOLED_COLOR }]), legend: null };
  return {
    title: `Follow rate within ${a.config.followWindowMs / 60_000} min, 95% CI (Wilson)`, width: WIDTH, height: HEIGHT,
    layer: [
      { data: { values }, mark: { type: "rule", strokeWidth: 2 }, encoding: { x, y: { field: "lo", type: "quantitative", axis: { format: ".1%" }, title: null }, y2: { field: "hi" }, color } },
      { data: { values }, mark: { type: "point", filled: true, size: 80 }, encoding: { x, y: { field: "rate", type: "quantitative" }, color, tooltip: { field: "n" } } },
    ],
  };
}

/** Follow rate per user group, canary beside stable, with Wilson 95% CIs; failed groups are named in the title. */
function groupSpec(a: CanaryAnalysis): ChartSpec | null {
  const g = a.tests.groups;
  if (!g) return null;
  const values = g.groups.flatMap((x) => ([["canary", x.canary], ["stable", x.stable]] as const).flatMap(([armName, s]) => (s.rate === null ? [] : [{
    group: `${x.attribute}=${x.group}`, arm: armName, rate: s.rate, lo: s.ci![0], hi: s.ci![1],
  }])));
  const x = { field: "group", type: "nominal" as const, sort: g.groups.map((v) => `${v.attribute}=${v.group}`), title: null, axis: { labelAngle: -40 } };
  const color = { field: "arm", type: "nominal" as const, scale: { domain: ["canary", "stable"], range: [CANARY_COLOR, POOLED_COLOR] }, title: null };
  return {
    title: `Follow rate per user group, 95% CI${g.worse.length ? `: canary worse for ${g.worse.join(", ")}` : ""}`, width: WIDTH, height: HEIGHT,
    layer: [
      { data: { values }, mark: { type: "rule", strokeWidth: 2 }, encoding: { x, xOffset: { field: "arm" }, y: { field: "lo", type: "quantitative", axis: { format: ".0%" }, title: null }, y2: { field: "hi" }, color } },
      { data: { values }, mark: { type: "point", filled: true, size: 50 }, encoding: { x, xOffset: { field: "arm" }, y: { field: "rate", type: "quantitative" }, color } },
    ],
  };
}

/**
 * The report's three charts as inline SVG (via @recsys/charts). Latency uses a log axis: a 4 ms
 * p99 and the 500 ms limit are both readable, where a linear axis drew the series as a flat line.
 */
export async function canaryCharts(a: CanaryAnalysis): Promise<string[]> {
  const latency = timeSeriesSpec(a, "Latency p99, log scale", (s) => s.p99.map((v) => (v === null ? null : Math.max(v, 0.1))),
    { y: a.config.maxP99Ms, label: `limit ${a.config.maxP99Ms} ms` }, { scale: { type: "log" }, axis: { format: "~s", title: "ms" } });
  const success = timeSeriesSpec(a, "Success rate", (s) => s.successRate,
    { y: a.config.minSuccessRate, label: `limit ${(a.config.minSuccessRate * 100).toFixed(1)}%` }, { scale: { zero: false }, axis: { format: ".1%" } });
  const groups = groupSpec(a);
  const svgs = await Promise.all([latency, success, followSpec(a), ...(groups ? [groups] : [])].map(renderChart));
  // Inline SVG in HTML needs no namespace attributes.
  return svgs.map((svg) => svg.replace(/ xmlns(:xlink)?="[^"]*"/g, ""));
}
