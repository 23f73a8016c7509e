import { EXPOSURE_METRICS, type FairnessConfig, type MetricName } from "./config.ts";
import { groupUsers } from "./groups.ts";
import { loadFairnessInputs } from "./load.ts";
import { perUserQuality } from "./quality.ts";
import { datasetBalance } from "./balance.ts";
import { exposureColumns } from "./exposure.ts";
import { attributeQuality, mergeColumns, type AttributeQuality, type UserColumns } from "./analysis.ts";
import { checkRequirements, type RequirementResult } from "./check.ts";
import { thresholdText } from "./format.ts";
import { moviesIfAny } from "./report.ts";

/** What a release keeps of the fairness gate: the verdict, one line of reason, every requirement's evidence. */
export interface FairnessVerdict {
  passed: boolean;
  /** "fairness requirements pass (4 judged)" or each failed requirement with its evidence, "; "-joined. */
  reason: string;
  /** Each requirement with metric, groups compared, value vs threshold, CI and p (checkRequirements). */
  requirements: RequirementResult[];
  resamples: { bootstrap: number; permutations: number; alpha: number };
  seconds: number;
}

export interface GateInput {
  modelDir: string;
  /** The dataset the model was trained on (its users file gives the groups; the model's split the held-out ratings). */
  dataDir: string;
  holdoutDir?: string;
  config: FairnessConfig;
  seed: number;
}

/** One failed requirement as a release reason: metric, groups, value vs threshold, CI, p. */
export function failureText(r: RequirementResult): string {
  const ci = r.differenceCi ? ` [95% CI ${r.differenceCi.map((x) => x.toFixed(4)).join(", ")}]` : "";
  return `${r.attribute} ${r.metric}: ${r.highest} vs ${r.lowest} difference ${r.difference?.toFixed(4)}${ci}, ratio ${r.ratio?.toFixed(3)}, p ${r.pValue?.toPrecision(3)} (requirement ${thresholdText(r)}, alpha ${r.alpha})`;
}

/**
 * The fairness requirements of `config` on a candidate model, before it is released: the same
 * statistics as the report (bootstrap CIs, permutation p-values), but only for the attributes and
 * metrics a requirement names, and without balance tables or charts, so a deploy can afford it.
 *
 *     const v = await fairnessGate({ modelDir: "models/m2", dataDir: "data", config, seed: 42 });
 *     if (!v.passed) console.error(v.reason); // "fairness: gender rmse: F vs M difference 0.31 ..."
 */
export async function fairnessGate(input: GateInput): Promise<FairnessVerdict> {
  const started = performance.now();
  const { config, seed } = input;
  const { model, served, data, heldOut, profile } = await loadFairnessInputs(input.modelDir, input.dataDir, input.holdoutDir);
  const wanted = new Set(config.requirements.map((r) => r.attribute));
  const assignment = [...groupUsers(data.users, config)].filter(([attr]) => wanted.has(attr));
  const metrics = new Set<MetricName>(config.requirements.map((r) => r.metric));
  let columns: UserColumns = perUserQuality(model, heldOut, { topN: config.topN, relevantAt: config.relevantAt });
  if (EXPOSURE_METRICS.some((m) => metrics.has(m))) {
    // Calibration and long-tail exposure need the served lists: only when a requirement names them.
    const balance = datasetBalance(data, new Map(), config.headShare);
    columns = mergeColumns(columns, exposureColumns(served, data, await moviesIfAny(input.dataDir), balance.inTail));
  }
  const only: UserColumns = { userIds: columns.userIds, columns: Object.fromEntries(Object.entries(columns.columns).filter(([m]) => metrics.has(m as MetricName))) };
  const quality: AttributeQuality[] = assignment.map(([attr, labels]) => attributeQuality(attr, labels, only, profile, config, seed));
  const requirements = checkRequirements(quality, config);
  const failed = requirements.filter((r) => r.status === "fail");
  const judged = requirements.filter((r) => r.status !== "not-judged").length;
  return {
    passed: failed.length === 0,
    reason: failed.length ? `fairness: ${failed.map(failureText).join("; ")}` : `fairness requirements pass (${judged} of ${requirements.length} judged)`,
    requirements,
    resamples: { bootstrap: config.bootstrap, permutations: config.permutations, alpha: config.alpha },
    seconds: (performance.now() - started) / 1000,
  };
}
