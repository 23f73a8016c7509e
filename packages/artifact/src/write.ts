import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { endianness } from "node:os";
import { writeDirAtomic, type OutputClaim } from "@recsys/core";
import { computeModelHash, sha256, stableStringify } from "./hash.ts";
import { MODEL_META_FILE, type DType, type ModelMeta, type TensorSpec, type TypedArray } from "./schema.ts";

export interface TensorInput {
  data: TypedArray;
  shape: number[];
}

export type ModelMetaInput = Omit<ModelMeta, "tensors" | "modelHash" | "formatVersion">;

function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return "f32";
  if (data instanceof Uint32Array) return "u32";
  return "u8";
}

function littleEndianBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Writes a model artifact directory atomically (temp dir + rename): `model.json` plus one
 * little-endian binary file per tensor, each with its sha256, and the model hash over all.
 * Returns the written metadata. Same inputs give byte-identical files. `output` names the
 * inputs the directory must not replace and --force (see core's checkOutput).
 *
 *     const meta = await writeModelArtifact("models/m1", info, { user_factors: { data, shape: [nUsers, k] } });
 */
export async function writeModelArtifact(dir: string, info: ModelMetaInput, tensors: Record<string, TensorInput>, output: Omit<OutputClaim, "kind"> = {}): Promise<ModelMeta> {
  if (endianness() !== "LE") throw new Error("model artifacts are written little-endian; this machine is big-endian");
  const specs: Record<string, TensorSpec> = {};
  const files: Array<[string, Uint8Array]> = [];
  for (const name of Object.keys(tensors).sort()) {
    const { data, shape } = tensors[name]!;
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`tensor ${name}: shape [${shape}] holds ${count} values, data has ${data.length}`);
    const dtype = dtypeOf(data);
    const bytes = littleEndianBytes(data);
    const file = `${name}.${dtype}`;
    specs[name] = { file, dtype, shape, sha256: sha256(bytes) };
    files.push([file, bytes]);
  }
  const withoutHash = { formatVersion: 1 as const, ...info, tensors: specs };
  const meta: ModelMeta = { ...withoutHash, modelHash: computeModelHash(withoutHash) };
  await writeDirAtomic(dir, async (tmp) => {
    for (const [file, bytes] of files) await writeFile(join(tmp, file), bytes);
    // Sorted keys: the file's bytes depend only on its content.
    await writeFile(join(tmp, MODEL_META_FILE), JSON.stringify(JSON.parse(stableStringify(meta)), null, 1) + "\n");
  }, { kind: "model", ...output });
  return meta;
}
