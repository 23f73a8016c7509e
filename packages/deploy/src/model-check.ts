import { basename, resolve } from "node:path";
import { loadRecModel } from "@recsys/artifact";
import { gateRefused } from "./errors.ts";

/** What a release records about its model: enough to trace any served answer back to bytes. */
export interface ModelIdentity {
  /** Absolute path of the artifact directory. */
  modelDir: string;
  /** Short id: the first 12 hex digits of the model hash. */
  modelId: string;
  modelHash: string;
  dataHash: string;
  createdAt: string;
  gate: { metric: string; threshold: number; value: number; passed: boolean };
  /** Training params and held-out metrics, as model.json records them (for the release manifest). */
  hyperParams: Record<string, number | string | boolean>;
  metrics: Record<string, number>;
}

/**
 * Checks that a model directory may be deployed, before anything starts: the model must load
 * exactly as the API will load it (schema, every tensor's sha256, the model hash, shapes that
 * match the id maps) and must have passed the training gate.
 * A gate-failed model, or one in train's `MODEL_DIR.failed/` quarantine, is refused with a
 * GateFailedError (CLI exit 3); a missing or corrupt one with an ArtifactError (exit 2).
 *
 *     const model = await checkDeployable("models/current"); // { modelId, modelHash, ... }
 */
export async function checkDeployable(modelDir: string): Promise<ModelIdentity> {
  const dir = resolve(modelDir);
  if (basename(dir).endsWith(".failed")) throw gateRefused(modelDir, "is in a .failed directory (it failed the training gate)");
  // Read with allowGateFailed so a failed gate gets its own error and exit code (3), not "bad artifact".
  const { meta } = await loadRecModel(dir, { allowGateFailed: true });
  if (!meta.gate.passed) {
    throw gateRefused(modelDir, `failed the quality gate (${meta.gate.metric} ${meta.gate.value.toFixed(4)}, threshold ${meta.gate.threshold})`);
  }
  return { modelDir: dir, modelId: meta.modelHash.slice(0, 12), modelHash: meta.modelHash, dataHash: meta.dataHash, createdAt: meta.createdAt, gate: meta.gate, hyperParams: meta.hyperParams, metrics: meta.metrics };
}
