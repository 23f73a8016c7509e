import { GateFailedError } from "@recsys/core";
import type { ModelMeta } from "@recsys/artifact";

/**
 * The gate refused a model (code RECSYS_GATE_FAILED, exit 3), carrying what a caller such as the
 * deploy loop needs to report it: where the rejected artifact was kept and its metadata.
 */
export class ModelGateFailedError extends GateFailedError {
  readonly dir: string;
  readonly meta: ModelMeta;
  constructor(dir: string, meta: ModelMeta) {
    const m = meta.metrics;
    super(`gate failed: held-out RMSE ${meta.gate.value.toFixed(4)} is not below ${meta.gate.threshold} (baseline ${m.baselineRmse!.toFixed(4)}); nothing deployable was written, the rejected model is kept in ${dir} for inspection`);
    this.dir = dir;
    this.meta = meta;
    this.details = { dir, metrics: meta.metrics, gate: meta.gate };
  }
}
