import type { AttributeQuality } from "./analysis.ts";
import type { FairnessConfig, Requirement } from "./config.ts";

/**
 * One requirement's verdict with its evidence (as canary's checks): the measured difference and
 * ratio with their CIs, the p-value, the threshold. "fail" needs both a disparity beyond the
 * threshold and significance (p < alpha), so noise is not reported as bias; "not-judged" when the
 * attribute is missing or fewer than two groups reach the minimum size.
 */
export interface RequirementResult extends Requirement {
  status: "pass" | "fail" | "not-judged";
  difference: number | null;
  differenceCi: [number, number] | null;
  ratio: number | null;
  ratioCi: [number, number] | null;
  pValue: number | null;
  alpha: number;
  highest: string | null;
  lowest: string | null;
  reason: string;
}

export function checkRequirements(quality: readonly AttributeQuality[], config: Pick<FairnessConfig, "requirements" | "alpha">): RequirementResult[] {
  return config.requirements.map((req) => {
    const none = { difference: null, differenceCi: null, ratio: null, ratioCi: null, pValue: null, alpha: config.alpha, highest: null, lowest: null };
    const attr = quality.find((a) => a.attribute === req.attribute);
    if (!attr) return { ...req, ...none, status: "not-judged", reason: `the data has no attribute '${req.attribute}'` };
    const d = attr.disparities[req.metric];
    if (!d) return { ...req, ...none, status: "not-judged", reason: `fewer than two ${req.attribute} groups reach the minimum size for ${req.metric}` };
    const beyond = [
      ...(req.maxDifference !== undefined && d.difference > req.maxDifference ? [`difference ${d.difference.toFixed(4)} > ${req.maxDifference}`] : []),
      ...(req.minRatio !== undefined && d.ratio < req.minRatio ? [`ratio ${d.ratio.toFixed(4)} < ${req.minRatio}`] : []),
    ];
    const significant = d.pValue < config.alpha;
    const fail = beyond.length > 0 && significant;
    const between = `${d.highest} vs ${d.lowest}`;
    const reason = fail ? `${beyond.join(", ")} (${between}), p ${d.pValue.toPrecision(3)} < ${config.alpha}`
      : beyond.length ? `${beyond.join(", ")} (${between}) but not significant (p ${d.pValue.toPrecision(3)} >= ${config.alpha})`
        : `within the threshold (${between}, p ${d.pValue.toPrecision(3)})`;
    return {
      ...req, status: fail ? "fail" : "pass", difference: d.difference, differenceCi: d.differenceCi, ratio: d.ratio, ratioCi: d.ratioCi,
      pValue: d.pValue, alpha: config.alpha, highest: d.highest, lowest: d.lowest, reason,
    };
  });
}
