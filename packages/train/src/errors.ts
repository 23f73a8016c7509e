import { GateFailedError } from "@recsys/core";
import type { ModelMeta } from "@recsys/artifact";
import { describeGate, type GateVerdict } from "./gate.ts";

/**
 * The gate refused a model (code RECSYS_GATE_FAILED, exit 3), carrying what a caller such as the
 * deploy loop needs to report it: where the rejected artifact was kept and its metadata.
 */
export class ModelGateFailedError extends GateFailedError {
  readonly dir: string;
  readonly meta: ModelMeta;
  constructor(dir: string, meta: ModelMeta, gate: GateVerdict) {
    super(`gate failed: ${describeGate(gate)}; nothing deployable was written, the rejected model is kept in ${dir} for inspection`);
    this.dir = dir;
    this.meta = meta;
    this.details = { dir, metrics: meta.metrics, gate: meta.gate };
  }
}
