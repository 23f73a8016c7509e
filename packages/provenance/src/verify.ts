import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { computeModelHash, MODEL_META_FILE, ModelMetaSchema } from "@recsys/artifact";
import { DATASET_FILES, ManifestSchema, dirListing, md5File } from "@recsys/core";
import type { FileSet } from "./file-set.ts";
import { parseJson } from "./json.ts";
import { brokenLink, okLink, type Link } from "./link.ts";

/**
 * Re-computes a model's identity from its bytes: every tensor's sha256 against model.json, then
 * the modelHash over model.json (which covers every tensor), against the hash the caller
 * expects (the one logged with the response, or recorded with the release).
 *
 *     await verifyModel(await dirFileSet("models/m1"), "f5efc4d6...") // { ok: true, ... }
 */
export async function verifyModel(set: FileSet, expectedHash: string): Promise<Link> {
  const metaPath = set.files.get(MODEL_META_FILE);
  if (!metaPath) return brokenLink("model", `${MODEL_META_FILE} is missing`, set.where, { expected: expectedHash });
  const json = await readFile(metaPath, "utf8").then(parseJson, () => null);
  const parsed = ModelMetaSchema.safeParse(json);
  if (!parsed.success) return brokenLink("model", `${MODEL_META_FILE} is not a valid model description`, set.where, { expected: expectedHash });
  const { modelHash: _recorded, ...rest } = parsed.data;
  for (const [name, spec] of Object.entries(parsed.data.tensors)) {
    const path = set.files.get(spec.file);
    const found = path ? await sha256File(path) : "(missing)";
    if (found !== spec.sha256) return brokenLink("model", `tensor ${name} (${spec.file}) changed`, set.where, { expected: spec.sha256, found });
  }
  const found = computeModelHash(rest);
  const meta = parsed.data;
  const details = { engine: meta.engine, factors: meta.factors, users: meta.userIds.length, movies: meta.movieIds.length, dataHash: meta.dataHash, createdAt: meta.createdAt, hyperParams: meta.hyperParams, metrics: meta.metrics, gate: meta.gate };
  if (found !== expectedHash) return brokenLink("model", "model hash re-computed from the files does not match", set.where, { expected: expectedHash, found }, details);
  const gate = `${meta.gate.metric} ${meta.gate.value.toFixed(4)} < ${meta.gate.threshold} ${meta.gate.passed ? "passed" : "FAILED"}`;
  return okLink("model", `${found.slice(0, 12)} ${meta.engine} k=${meta.factors}, ${meta.userIds.length} users x ${meta.movieIds.length} movies; gate ${gate}`, set.where, { hash: found, ...details });
}

/**
 * Re-computes a dataset's dataHash: DVC's directory hash of its data files (everything but the
 * manifest, which records the hash and so cannot be part of it). When it does not match, the
 * manifest's per-file md5s name the file that changed.
 *
 *     await verifyData(await dirFileSet("data/prepared"), "a41f...") // { ok: true, details: { counts } }
 */
export async function verifyData(set: FileSet, expectedHash: string): Promise<Link> {
  const { hash: found, entries } = await dataHashOf(set);
  const manifestPath = set.files.get(DATASET_FILES.manifest);
  const manifest = manifestPath
    ? ManifestSchema.safeParse(await readFile(manifestPath, "utf8").then(parseJson, () => null)).data ?? null
    : null;
  const details = manifest ? { counts: manifest.counts, timeRange: manifest.timeRange, source: manifest.source } : {};
  if (found !== expectedHash) {
    const changed = manifest ? entries.filter((e) => manifest.files[e.relpath] !== undefined && manifest.files[e.relpath] !== e.md5).map((e) => e.relpath) : [];
    const what = changed.length ? `${changed.join(", ")} changed since ingestion` : "data hash re-computed from the files does not match";
    return brokenLink("data", what, set.where, { expected: expectedHash, found }, details);
  }
  const counts = manifest ? Object.entries(manifest.counts).map(([k, n]) => `${n} ${k}`).join(", ") : "no manifest";
  const range = manifest?.timeRange.first ? `; ${manifest.timeRange.first} .. ${manifest.timeRange.last}` : "";
  return okLink("data", `${found.slice(0, 12)} ${counts}${range}`, set.where, { hash: found, ...details });
}

/** A dataset's dataHash from its bytes, with the md5 of each data file. */
export async function dataHashOf(set: FileSet): Promise<{ hash: string; entries: Array<{ md5: string; relpath: string }> }> {
  const entries: Array<{ md5: string; relpath: string }> = [];
  for (const [relpath, path] of set.files) if (relpath !== DATASET_FILES.manifest) entries.push({ md5: await md5File(path), relpath });
  return { hash: createHash("md5").update(dirListing(entries)).digest("hex"), entries };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
