import { readFile } from "node:fs/promises";
import { endianness } from "node:os";
import { join } from "node:path";
import { readJsonFile } from "@recsys/core";
import { ArtifactError } from "./errors.ts";
import { computeModelHash, sha256 } from "./hash.ts";
import { DTYPES, MODEL_META_FILE, ModelMetaSchema, type ModelMeta, type TypedArray } from "./schema.ts";

export interface LoadedArtifact {
  dir: string;
  meta: ModelMeta;
  tensors: Record<string, TypedArray>;
}

/**
 * Reads an artifact directory and checks everything a corrupt or truncated copy would break:
 * metadata schema, each file's size against its shape, each file's sha256, the model hash,
 * and (unless `allowGateFailed`) that the model passed the quality gate.
 *
 *     const { meta, tensors } = await loadArtifact("models/current");
 */
/** Which condition failed: the threshold, or (train's second condition) the biases-only baseline. */
function gateFailure(g: ModelMeta["gate"]): string {
  const value = `${g.metric} ${g.value.toFixed(4)}`;
  return g.noWorseThanBaseline === false && g.belowThreshold !== false ? `${value} worse than its baseline ${g.baseline?.toFixed(4)}` : `${value} not below ${g.threshold}`;
}

export async function loadArtifact(dir: string, options: { allowGateFailed?: boolean } = {}): Promise<LoadedArtifact> {
  if (endianness() !== "LE") throw new ArtifactError(dir, "this loader reads little-endian tensors on little-endian machines only");
  const meta = await readJsonFile(ModelMetaSchema, join(dir, MODEL_META_FILE), "RECSYS_BAD_ARTIFACT");
  const { modelHash, ...withoutHash } = meta;
  if (computeModelHash(withoutHash) !== modelHash) throw new ArtifactError(dir, "model.json does not match its modelHash (edited or corrupt)");
  if (!meta.gate.passed && !options.allowGateFailed) throw new ArtifactError(dir, `failed the quality gate (${gateFailure(meta.gate)}); it cannot be served or deployed`);
  const tensors: Record<string, TypedArray> = {};
  for (const [name, spec] of Object.entries(meta.tensors)) {
    const Ctor = DTYPES[spec.dtype];
    const count = spec.shape.reduce((a, b) => a * b, 1);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, spec.file));
    } catch {
      throw new ArtifactError(dir, `tensor file ${spec.file} is missing`);
    }
    if (bytes.length !== count * Ctor.BYTES_PER_ELEMENT) {
      throw new ArtifactError(dir, `${spec.file} has ${bytes.length} bytes, shape [${spec.shape}] needs ${count * Ctor.BYTES_PER_ELEMENT} (truncated?)`);
    }
    if (sha256(bytes) !== spec.sha256) throw new ArtifactError(dir, `${spec.file} does not match its sha256 (corrupt)`);
    // Small Buffers can sit unaligned inside Node's pool; typed views need aligned offsets.
    const aligned = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : Buffer.from(bytes);
    tensors[name] = new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, count);
  }
  return { dir, meta, tensors };
}
