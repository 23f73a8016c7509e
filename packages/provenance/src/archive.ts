import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { MODEL_META_FILE, ModelMetaSchema } from "@recsys/artifact";
import { STATE_FILES, manifestPath, readReleases, type ReleaseRecord } from "@recsys/deploy";
import { badProvenanceInput } from "./errors.ts";
import { dirFileSet, isDir, isFile } from "./file-set.ts";
import { parseJson } from "./json.ts";
import type { Store } from "./store.ts";
import { dataHashOf, verifyData, verifyModel } from "./verify.ts";

/**
 * Checks, before a deploy starts, that `dataDir` is the dataset the model was trained on (its
 * re-computed dataHash is the one in model.json), so the store never files a dataset under
 * another's name. Returns the dataHash.
 *
 *     await checkTrainingData("models/m2", "data/prepared") // "a41f..."
 */
export async function checkTrainingData(modelDir: string, dataDir: string): Promise<string> {
  const meta = ModelMetaSchema.safeParse(await readFile(join(modelDir, MODEL_META_FILE), "utf8").then(parseJson, () => null));
  if (!meta.success) throw badProvenanceInput(modelDir, `no valid ${MODEL_META_FILE}`);
  if (!(await isDir(dataDir))) throw badProvenanceInput(`--data ${dataDir}`, "no such dataset directory");
  const link = await verifyData(await dirFileSet(dataDir), meta.data.dataHash);
  if (!link.ok) throw badProvenanceInput(`--data ${dataDir}`, `not the dataset model ${modelDir} was trained on (data hash ${link.found}, the model's ${link.expected}); pass the directory given to 'recsys train --data'`);
  return meta.data.dataHash;
}

export interface ArchiveResult {
  releaseId: string;
  /** The store key of the release's model and data, or null when they could not be stored. */
  model: string | null;
  data: string | null;
  /** Why the model was not stored: its directory is gone, or holds other bytes now. */
  skipped?: string;
}

/**
 * Puts what the releases in `STATE/releases.jsonl` used into the store, so traces and verifies
 * outlive the run directories: each model whose directory still exists and still verifies, and
 * `dataDir` for the releases trained on it. Idempotent (stored models are skipped by their ref).
 * A model directory that is gone or holds other bytes now (`models/current` replaced) is skipped
 * with the reason, never filed under the old release's hash.
 *
 *     await archiveReleases("runs/platform", createStore("runs/platform/cache"), { dataDir: "data/prepared" });
 */
export async function archiveReleases(stateDir: string, store: Store, options: { dataDir?: string } = {}): Promise<ArchiveResult[]> {
  const out: ArchiveResult[] = [];
  const dataHash = options.dataDir ? (await dataHashOf(await dirFileSet(options.dataDir))).hash : null;
  for (const record of await readReleases(join(stateDir, STATE_FILES.releases))) {
    const model = await archiveModel(store, record);
    const data = record.dataHash === dataHash ? await archiveData(store, record, options.dataDir!) : (await store.ref("data", record.dataHash))?.key ?? null;
    await archiveManifest(stateDir, store, record);
    out.push({ releaseId: record.releaseId, data, ...model });
  }
  return out;
}

/**
 * What a deploy calls once its release is recorded: archives, and returns what a user should be
 * told about the newest release (its model or data not stored, and why) as lines. A store that
 * cannot be written is one of those lines, not an exception: the release happened regardless.
 *
 *     for (const line of await keepReleases("runs/platform", store, { dataDir })) console.error(line);
 */
export async function keepReleases(stateDir: string, store: Store, options: { dataDir?: string } = {}): Promise<string[]> {
  let last: ArchiveResult | undefined;
  try {
    last = (await archiveReleases(stateDir, store, options)).at(-1);
  } catch (err) {
    return [`provenance store ${store.root} not updated: ${(err as Error).message}`];
  }
  const lines: string[] = [];
  if (last?.skipped) lines.push(`release ${last.releaseId}'s model not in the provenance store: ${last.skipped}`);
  if (last && !last.data) lines.push(`release ${last.releaseId}'s training data not in the provenance store (pass --data DIR)`);
  return lines;
}

async function archiveModel(store: Store, record: ReleaseRecord): Promise<{ model: string | null; skipped?: string }> {
  const known = await store.ref("models", record.modelHash);
  if (known && (await store.has(known.key))) return { model: known.key };
  if (!(await isDir(record.modelDir))) return { model: null, skipped: `${record.modelDir} is gone` };
  const link = await verifyModel(await dirFileSet(record.modelDir), record.modelHash);
  if (!link.ok) return { model: null, skipped: `${record.modelDir}: ${link.problem} since the release (expected ${link.expected}, found ${link.found})` };
  const key = await store.put(record.modelDir);
  await store.setRef("models", record.modelHash, { key, source: resolve(record.modelDir) });
  return { model: key };
}

/** A manifest is one file: stored under its md5, which the release record already names. */
async function archiveManifest(stateDir: string, store: Store, record: ReleaseRecord): Promise<void> {
  if (!record.manifestMd5 || (await store.has(record.manifestMd5))) return;
  const path = manifestPath(stateDir, record.releaseId);
  if (await isFile(path)) await store.put(path);
}

async function archiveData(store: Store, record: ReleaseRecord, dataDir: string): Promise<string> {
  const known = await store.ref("data", record.dataHash);
  if (known && (await store.has(known.key))) return known.key;
  const key = await store.put(dataDir);
  await store.setRef("data", record.dataHash, { key, source: resolve(dataDir) });
  return key;
}
