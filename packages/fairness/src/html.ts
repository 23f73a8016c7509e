import { METRICS } from "./config.ts";
import type { FairnessReport } from "./report.ts";
import type { AttributeQuality } from "./analysis.ts";
import { reportCharts } from "./charts.ts";
import { ci, num, pct, pval, thresholdText } from "./format.ts";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function table(header: string[], rows: string[][], className = ""): string {
  const th = header.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table class="${className}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

const figures = (svgs: string[]) => svgs.map((s) => `<figure>${s}</figure>`).join("\n");

function requirementsSection(r: FairnessReport): string {
  if (r.requirements.length === 0) return "<p>No requirement could be judged.</p>";
  return table(["attribute", "metric", "requirement", "status", "difference [95% CI]", "ratio [95% CI]", "p", "evidence"], r.requirements.map((q) => [
    q.attribute, q.metric, thresholdText(q), q.status.toUpperCase(), `${num(q.difference)} ${ci(q.differenceCi)}`, `${num(q.ratio, 3)} ${ci(q.ratioCi, 3)}`, pval(q.pValue), q.reason,
  ]), "requirements");
}

function balanceTable(r: FairnessReport, attr: string): string {
  return table(["group", "users", "ratings", "watches", "watch minutes", "activity mean", "median", "p25-p75", "p90", "long-tail share"], (r.balance.groups[attr] ?? []).map((g) => [
    g.group, String(g.users), String(g.ratings), String(g.watches), String(Math.round(g.watchMinutes)), num(g.activity.mean, 1), num(g.activity.median, 1),
    `${num(g.activity.p25, 0)}-${num(g.activity.p75, 0)}`, num(g.activity.p90, 0), pct(g.longTailShare),
  ]));
}

function mitigationSection(r: FairnessReport, charts: string[]): string {
  const m = r.mitigation;
  if (!m) return "";
  const rows = [{ attr: "", g: { group: "all users", ...m.before.overall }, a: { group: "all users", ...m.after.overall } },
    ...r.quality.flatMap((q) => (m.before.groups[q.attribute] ?? []).map((g, i) => ({ attr: `${q.attribute}: `, g, a: m.after.groups[q.attribute]![i]! })))];
  const pair = (b: number, a: number, f: (x: number) => string) => `${f(b)} → ${f(a)}`;
  const n4 = (x: number) => num(x), n3 = (x: number) => num(x, 3);
  return `<h2>Bias reduction: calibrated re-ranking</h2><p>${esc(m.note)}. Every known user's list re-ranked as the API does with <code>RECSYS_CALIBRATION=${m.lambda}</code> (Steck 2018: greedy, (1 − λ) · score − λ · KL to the genres of the user's history). Cost overall: nDCG ${num(m.cost.ndcg)}, recall ${num(m.cost.recall)}, RMSE ${num(m.cost.rmse)}.</p>`
    + table(["group", "users", "calibration (KL)", "tail exposure", "nDCG", "recall", "coverage", "Gini"], rows.map(({ attr, g, a }) => [
      `${attr}${g.group}`, String(g.users), pair(g.calibration, a.calibration, n4), pair(g.tailExposure, a.tailExposure, pct), pair(g.ndcg, a.ndcg, n4), pair(g.recall, a.recall, n4), pair(g.coverage, a.coverage, pct), pair(g.gini, a.gini, n3),
    ]), "mitigation") + figures(charts);
}

function qualityTables(q: AttributeQuality): string {
  const metrics = METRICS.filter((m) => q.disparities[m] !== undefined);
  const perGroup = table(["group", ...metrics.map((m) => `${m} (users) [95% CI]`)], q.groups.map((g) => [
    g.group, ...metrics.map((m) => { const v = g.metrics[m]!; return `${num(v.value)} (${v.users})${v.ci ? ` ${ci(v.ci)}` : " not judged"}`; }),
  ]));
  const disparities = table(["metric", "highest vs lowest", "difference [95% CI]", "ratio [95% CI]", "p (permutation)", "not judged (< min size)"], metrics.map((m) => {
    const d = q.disparities[m], small = q.notJudged[m]!.join(", ") || "-";
    return d ? [m, `${d.highest} vs ${d.lowest}`, `${num(d.difference)} ${ci(d.differenceCi)}`, `${num(d.ratio, 3)} ${ci(d.ratioCi, 3)}`, pval(d.pValue), small]
      : [m, "fewer than two judged groups", "", "", "", small];
  }));
  const strata = table(["profile stratum", "users", ...metrics.map((m) => `${m}: difference (p)`)], q.strata.map((s) => [
    s.label, String(s.users), ...metrics.map((m) => { const d = s.metrics[m]; return d ? `${num(d.difference)} (p ${pval(d.pValue)})` : "n/a"; }),
  ]));
  return `<h4>Per group</h4>${perGroup}<h4>Disparity between groups</h4>${disparities}<h4>Within activity strata (profile size = training ratings)</h4>${strata}`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#212529;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}th,td{border:1px solid #dee2e6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f5}figure{margin:.5em 0}.verdict{font-size:1.3em;font-weight:600}.pass{color:#2b8a3e}.fail{color:#c92a2a}
code{background:#f1f3f5;padding:0 3px}`;

/**
 * The report as one self-contained HTML page: inline CSS and inline SVG charts rendered on the
 * server, no script, no external URL, so it opens offline and can be attached to a release.
 */
export async function reportHtml(r: FairnessReport): Promise<string> {
  const charts = await reportCharts(r);
  const verdict = r.requirements.length === 0 ? "no requirement judged" : r.passed ? "all requirements passed" : `${r.requirements.filter((q) => q.status === "fail").length} requirement(s) FAILED`;
  const items = r.balance.items;
  const body = [
    `<h1>Fairness report</h1>`,
    `<p>Model <code>${esc(r.model.modelHash.slice(0, 12))}</code> (${esc(r.model.engine)}) on <code>${esc(r.data.dir)}</code> (${r.data.users} users, ${r.data.ratings} ratings, ${r.data.watches} watches). Held out: ${esc(r.heldOut.source)}: ${r.heldOut.ratings} ratings of ${r.heldOut.users} users. Seed ${r.seed}, ${r.config.bootstrap} bootstrap resamples, ${r.config.permutations} permutations, alpha ${r.config.alpha}, groups under ${r.config.minGroupSize} users not judged.</p>`,
    `<p class="verdict ${r.passed ? "pass" : "fail"}">${esc(verdict)}</p>`,
    r.statement ? `<p><strong>${esc(r.statement)}</strong></p>` : `<h2>Requirements</h2>${requirementsSection(r)}`,
    `<h2>Overall quality</h2>${table([...METRICS], [METRICS.map((m) => num(r.overall[m]))])}`,
    r.statement ? "" : `<h2>Groups</h2>${table(["attribute", "users", "groups"], r.attributes.map((a) => [a.name, String(a.users), a.groups.join(", ")]))}`,
    `<h2>Dataset balance</h2><h3>Items</h3><p>${items.movies} movies, ${items.interactions} interactions (distinct user-movie pairs rated or watched); the long tail (all but the top ${pct(items.headShare)}, ${items.headMovies} movies) holds ${pct(items.longTailShare)} of them.</p>`,
    figures([charts.popularity]),
    ...r.quality.map((q) => `<h3>By ${esc(q.attribute)}</h3>${balanceTable(r, q.attribute)}${figures([charts.balance[q.attribute]!])}`),
    `<h2>What is served</h2><p>Every known user's list from the API's own ranking (seen movies excluded, no exploration): catalogue coverage = distinct movies in the lists / catalogue; Gini of exposure over the catalogue (0 = every movie shown equally).</p>`,
    table(["group", "users", "coverage", "Gini"], [r.exposure.overall, ...r.quality.flatMap((q) => (r.exposure.groups[q.attribute] ?? []).map((g) => ({ ...g, group: `${q.attribute}: ${g.group}` })))].map((g) => [g.group, String(g.users), pct(g.coverage), num(g.gini, 3)])),
    r.statement ? "" : `<h2>Quality and exposure per group</h2><p>RMSE and MAE on held-out ratings; nDCG, precision and recall at ${r.config.topN} (relevant = rated &gt;= ${r.config.relevantAt}), over users with a relevant held-out movie; calibration = KL divergence between the genres of a user's history and of their served list (Steck 2018; 0 = calibrated); tailExposure = share of the served list from the long tail. Difference = highest - lowest group, ratio = lowest / highest (Fairlearn's MetricFrame); CIs resample users within groups; p-values shuffle group labels.</p>`,
    ...r.quality.map((q) => `<h3>By ${esc(q.attribute)}</h3>${qualityTables(q)}${figures(charts.quality[q.attribute] ?? [])}`),
    mitigationSection(r, charts.mitigation),
  ];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Fairness report ${esc(r.model.modelHash.slice(0, 12))}</title><style>${STYLE}</style></head>\n<body>\n${body.join("\n")}\n</body></html>\n`;
}
