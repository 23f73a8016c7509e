import { METRICS } from "./config.ts";
import type { FairnessReport } from "./report.ts";
import type { RequirementResult } from "./check.ts";

export const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(digits));
export const ci = (c: [number, number] | null | undefined, digits = 4) => (c ? `[${num(c[0], digits)}, ${num(c[1], digits)}]` : "n/a");
export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export const pval = (p: number | null | undefined) => (p === null || p === undefined ? "n/a" : p.toPrecision(3));

export function thresholdText(r: RequirementResult): string {
  return [r.maxDifference !== undefined ? `difference <= ${r.maxDifference}` : "", r.minRatio !== undefined ? `ratio >= ${r.minRatio}` : ""].filter(Boolean).join(", ");
}

/**
 * The report as terminal text: what was analysed, each requirement's verdict with its evidence,
 * and every significant disparity (p < alpha) with whether it survives the activity strata.
 */
export function formatFairnessText(r: FairnessReport): string {
  const lines = [
    `model ${r.model.modelHash.slice(0, 12)} (${r.model.engine}) on ${r.data.dir}: ${r.data.users} users, ${r.data.ratings} ratings, ${r.data.watches} watches`,
    `held out: ${r.heldOut.source}: ${r.heldOut.ratings} ratings of ${r.heldOut.users} known users (${r.heldOut.unknownUserRatings} of unknown users not judged)`,
    `overall: ${METRICS.map((m) => `${m} ${num(r.overall[m])}`).join("  ")}`,
    `served lists: coverage ${pct(r.exposure.overall.coverage)} of the catalogue, Gini of exposure ${num(r.exposure.overall.gini, 3)}`,
    `items: long-tail share ${pct(r.balance.items.longTailShare)} of ${r.balance.items.interactions} interactions (tail = all but the top ${pct(r.balance.items.headShare)} of ${r.balance.items.movies} movies)`,
  ];
  const m = r.mitigation;
  if (m) {
    const side = (x: typeof m.before.overall) => `calibration ${num(x.calibration)}  tailExposure ${pct(x.tailExposure)}  ndcg ${num(x.ndcg)}  recall ${num(x.recall)}  coverage ${pct(x.coverage)}  Gini ${num(x.gini, 3)}`;
    lines.push(`mitigation: calibrated re-ranking, lambda ${m.lambda} (API: RECSYS_CALIBRATION=${m.lambda})`, `  before: ${side(m.before.overall)}`, `  after:  ${side(m.after.overall)}`,
      `  cost: nDCG ${num(m.cost.ndcg)}, recall ${num(m.cost.recall)}; RMSE unchanged (re-ranking changes no predicted rating)`);
  }
  if (r.statement) return [...lines, r.statement].join("\n");
  lines.push(`groups: ${r.attributes.map((a) => `${a.name} (${a.groups.length})`).join(", ")}`);
  for (const q of r.quality) {
    for (const m of METRICS) {
      const d = q.disparities[m];
      if (!d || d.pValue >= r.config.alpha) continue;
      const within = q.strata.map((s) => s.metrics[m]).filter((s) => s !== null);
      const sig = within.filter((s) => s!.pValue < r.config.alpha).length;
      lines.push(`  significant: ${m} by ${q.attribute}: ${d.highest} ${d.lowest === d.highest ? "" : `vs ${d.lowest}`} difference ${num(d.difference)} ${ci(d.differenceCi)}, ratio ${num(d.ratio, 3)}, p ${pval(d.pValue)}; significant in ${sig} of ${within.length} activity strata`);
    }
    const small = [...new Set(METRICS.flatMap((m) => q.notJudged[m]))];
    if (small.length) lines.push(`  ${q.attribute}: not judged (under ${r.config.minGroupSize} users for some metric): ${small.join(", ")}`);
  }
  for (const q of r.requirements) lines.push(`requirement ${q.attribute} ${q.metric} (${thresholdText(q)}): ${q.status.toUpperCase()}: ${q.reason}`);
  lines.push(r.passed ? "fairness requirements: all passed" : `fairness requirements: ${r.requirements.filter((q) => q.status === "fail").length} FAILED`);
  return lines.join("\n");
}
