import { renderChart, type ChartSpec } from "@recsys/charts";
import type { FairnessReport } from "./report.ts";
import type { AttributeQuality } from "./analysis.ts";
import type { MetricName } from "./config.ts";

const WIDTH = 560;

/** Share of users, ratings and watch minutes per group: an unbalanced dataset shows as uneven bars. */
function balanceSpec(report: FairnessReport, attr: string): ChartSpec {
  const rows = report.balance.groups[attr] ?? [];
  const total = (k: "users" | "ratings" | "watchMinutes") => rows.reduce((s, r) => s + r[k], 0) || 1;
  const values = rows.flatMap((r) => (["users", "ratings", "watchMinutes"] as const).map((k) => ({ group: r.group, measure: k === "watchMinutes" ? "watch minutes" : k, share: r[k] / total(k) })));
  return {
    title: `Dataset balance by ${attr}: share of users, ratings and watch minutes`, width: WIDTH, height: 220,
    data: { values }, mark: "bar",
    encoding: {
      x: { field: "group", type: "nominal", sort: rows.map((r) => r.group), title: null, axis: { labelAngle: -40 } },
      xOffset: { field: "measure", type: "nominal" },
      y: { field: "share", type: "quantitative", axis: { format: "%" }, title: "share" },
      color: { field: "measure", type: "nominal", title: null },
    },
  };
}

/** Cumulative share of interactions held by the most popular movies, with the head/tail cut. */
function popularitySpec(report: FairnessReport): ChartSpec {
  const it = report.balance.items;
  return {
    title: `Popularity curve: the top ${Math.round(it.headShare * 100)}% of movies hold ${Math.round((1 - it.longTailShare) * 100)}% of interactions`,
    width: WIDTH, height: 220,
    layer: [
      { data: { values: it.curve }, mark: { type: "line", color: "#1c7ed6" },
        encoding: { x: { field: "itemShare", type: "quantitative", axis: { format: "%" }, title: "movies, most popular first" }, y: { field: "interactionShare", type: "quantitative", axis: { format: "%" }, title: "share of interactions" } } },
      { data: { values: [{ x: it.headShare }] }, mark: { type: "rule", color: "#c92a2a", strokeDash: [4, 4] }, encoding: { x: { field: "x", type: "quantitative" } } },
    ],
  };
}

/** A metric per group with its bootstrap 95% CI and the overall value as a reference line. */
function qualitySpec(report: FairnessReport, q: AttributeQuality, metric: MetricName): ChartSpec {
  const values = q.groups.flatMap((g) => {
    const v = g.metrics[metric];
    return v?.ci ? [{ group: g.group, value: v.value, lo: v.ci[0], hi: v.ci[1] }] : [];
  });
  const x = { field: "group", type: "nominal" as const, sort: values.map((v) => v.group), title: null, axis: { labelAngle: -40 } };
  return {
    title: `${metric} by ${q.attribute} (judged groups, 95% bootstrap CI; line = all users)`, width: WIDTH, height: 200,
    layer: [
      { data: { values }, mark: { type: "rule", color: "#495057" }, encoding: { x, y: { field: "lo", type: "quantitative", scale: { zero: false }, title: metric }, y2: { field: "hi" } } },
      { data: { values }, mark: { type: "point", filled: true, size: 60, color: "#1c7ed6" }, encoding: { x, y: { field: "value", type: "quantitative" } } },
      { data: { values: [{ y: report.overall[metric] }] }, mark: { type: "rule", color: "#868e96", strokeDash: [4, 4] }, encoding: { y: { field: "y", type: "quantitative" } } },
    ],
  };
}

/** The between-group difference overall and within each activity stratum (Ekstrand et al.). */
function strataSpec(q: AttributeQuality, metric: MetricName): ChartSpec | null {
  const overall = q.disparities[metric];
  if (!overall) return null;
  const values = [
    { stratum: "all users", difference: overall.difference },
    ...q.strata.filter((s) => s.metrics[metric]).map((s) => ({ stratum: s.label, difference: s.metrics[metric]!.difference })),
  ];
  return {
    title: `${metric} difference between ${q.attribute} groups, overall and within profile-size strata`, width: WIDTH, height: 160,
    data: { values }, mark: { type: "bar", color: "#7048e8" },
    encoding: { x: { field: "stratum", type: "nominal", sort: values.map((v) => v.stratum), title: null, axis: { labelAngle: 0 } }, y: { field: "difference", type: "quantitative", title: `${metric} max - min` } },
  };
}

/** A served-list measure per group (and for all users) before and after the mitigation, side by side. */
function mitigationSpec(report: FairnessReport, attr: string | null, metric: "calibration" | "ndcg"): ChartSpec | null {
  const m = report.mitigation;
  if (!m) return null;
  const rows = (side: typeof m.before) => [{ group: "all users", ...side.overall }, ...(attr ? side.groups[attr] ?? [] : [])];
  const values = (["before", "after"] as const).flatMap((when) => rows(m[when]).map((g) => ({ group: g.group, when, value: g[metric] })));
  return {
    title: `${metric} ${attr ? `by ${attr} ` : ""}before and after calibrated re-ranking (lambda ${m.lambda})`, width: WIDTH, height: 200,
    data: { values }, mark: "bar",
    encoding: {
      x: { field: "group", type: "nominal", sort: rows(m.before).map((g) => g.group), title: null, axis: { labelAngle: -40 } },
      xOffset: { field: "when", type: "nominal", sort: ["before", "after"] },
      y: { field: "value", type: "quantitative", title: metric },
      color: { field: "when", type: "nominal", sort: ["before", "after"], title: null },
    },
  };
}

/** Inline SVG for HTML: the namespace attributes are only needed in standalone .svg files. */
const inline = (svg: string) => svg.replace(/ xmlns(:xlink)?="[^"]*"/g, "");

/** Every chart of the report rendered to inline SVG, grouped by the section it belongs to. */
export async function reportCharts(report: FairnessReport) {
  const render = async (spec: ChartSpec | null) => (spec ? inline(await renderChart(spec)) : "");
  const attrs = report.quality.map((q) => q.attribute);
  return {
    popularity: await render(popularitySpec(report)),
    balance: Object.fromEntries(await Promise.all(attrs.map(async (a) => [a, await render(balanceSpec(report, a))] as const))),
    quality: Object.fromEntries(await Promise.all(report.quality.map(async (q) => [q.attribute, [
      await render(qualitySpec(report, q, "ndcg")), await render(qualitySpec(report, q, "rmse")), await render(strataSpec(q, "ndcg")), await render(strataSpec(q, "rmse")),
      await render(qualitySpec(report, q, "calibration")), await render(qualitySpec(report, q, "tailExposure")),
    ].filter((s) => s !== "")] as const))),
    mitigation: await Promise.all((attrs.length ? attrs : [null]).flatMap((a) => [render(mitigationSpec(report, a, "calibration")), render(mitigationSpec(report, a, "ndcg"))])),
  };
}
