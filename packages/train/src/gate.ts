import type { ModelMeta } from "@recsys/artifact";

/** The gate's verdict as model.json records it: both figures and both conditions. */
export type GateVerdict = Required<ModelMeta["gate"]>;

/**
 * The quality gate: held-out RMSE below `threshold` AND no worse than the biases-only baseline
 * measured on the same split (a factor model that loses to its own biases has learnt noise).
 * Both comparisons are false for NaN, so a diverged model (NaN RMSE) fails both.
 *
 *     gateVerdict(0.8765, 0.8594, 1) // { passed: false, belowThreshold: true, noWorseThanBaseline: false, ... }
 */
export function gateVerdict(rmse: number, baselineRmse: number, threshold: number): GateVerdict {
  const belowThreshold = rmse < threshold;
  const noWorseThanBaseline = rmse <= baselineRmse;
  return {
    metric: "rmse", threshold, value: rmse, baseline: baselineRmse,
    belowThreshold, noWorseThanBaseline, passed: belowThreshold && noWorseThanBaseline,
  };
}

/** One line with both figures and both verdicts, for the CLI and the failure message. */
export function describeGate(g: GateVerdict): string {
  const verdict = (ok: boolean) => (ok ? "ok" : "FAILED");
  return `held-out RMSE ${g.value.toFixed(4)} ${g.belowThreshold ? "is below" : "is not below"} ${g.threshold} (${verdict(g.belowThreshold)}), `
    + `${g.noWorseThanBaseline ? "no worse than" : "worse than"} the biases-only baseline ${g.baseline.toFixed(4)} on the same split (${verdict(g.noWorseThanBaseline)})`;
}
