import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { recommend } from "@recsys/api";
import { loadRecModel, type RecModel } from "@recsys/artifact";
import { DATASET_FILES, RATINGS_HEADER, createRng, readCsvLines } from "@recsys/core";
import { STATE_FILES, readReleases, type ReleaseRecord } from "@recsys/deploy";
import { notFound } from "./errors.ts";
import { locate } from "./file-set.ts";
import type { ChainSources } from "./trace.ts";

type Value = number | string | boolean | null;

export interface ReleaseDiff {
  a: string;
  b: string;
  /** `git log A..B`: what B's commit has that A's has not, newest first; `error` when git cannot tell. */
  commits: { list: Array<{ hash: string; subject: string; author: string; date: string }>; error?: string };
  /** Training params that differ (a key missing on one side is null there). */
  params: Array<{ key: string; a: Value; b: Value }>;
  /** Every gate metric of either model, with B - A. */
  metrics: Array<{ key: string; a: number | null; b: number | null; delta: number | null }>;
  /** Ratings of each dataset and what B's adds: rows, users and movies A's has not; null where a dataset is gone. */
  data: { same: boolean; ratingsA: number | null; ratingsB: number | null; rowsAdded: number | null; newUsers: number | null; newMovies: number | null };
  /** Users (a seeded sample of both models' users) whose top 20 (no exploration) differs between the two models. */
  top20: { sampled: number; changed: number; share: number; seed: number } | null;
  /** Why a part could not be computed (a model or dataset that is nowhere). */
  notes: string[];
}

export interface DiffOptions { sample?: number; seed?: number }

/**
 * What changed between two releases of the history: commits, params, data, gate metrics, and
 * the share of users whose top 20 changed on a seeded sample. Models and datasets are read
 * where a trace would read them (their directory, else the store).
 *
 *     const d = await diffReleases("r1", "r2", { stateDir, store, repoDir: "." }, { sample: 500 });
 *     d.top20?.share // 0.83
 */
export async function diffReleases(idA: string, idB: string, sources: ChainSources, options: DiffOptions = {}): Promise<ReleaseDiff> {
  const path = join(sources.stateDir, STATE_FILES.releases);
  const records = await readReleases(path);
  const find = (id: string) => records.filter((r) => r.releaseId === id).at(-1) ?? (() => { throw notFound(`release ${id} is not in ${path}`, "check the id, or pass --state DIR"); })();
  const a = find(idA), b = find(idB);
  const notes: string[] = [];
  const [modelA, modelB] = [await openModel(a, sources, notes), await openModel(b, sources, notes)];
  try {
    const paramsA = modelA?.meta.hyperParams ?? {}, paramsB = modelB?.meta.hyperParams ?? {};
    const params = [...new Set([...Object.keys(paramsA), ...Object.keys(paramsB)])].sort()
      .map((key) => ({ key, a: paramsA[key] ?? null, b: paramsB[key] ?? null })).filter((p) => p.a !== p.b);
    const metricsA = modelA?.meta.metrics ?? {}, metricsB = modelB?.meta.metrics ?? {};
    const metrics = [...new Set([...Object.keys(metricsA), ...Object.keys(metricsB)])].sort().map((key) => {
      const va = metricsA[key] ?? null, vb = metricsB[key] ?? null;
      return { key, a: va, b: vb, delta: va !== null && vb !== null ? vb - va : null };
    });
    return {
      a: idA, b: idB, commits: await commitsBetween(sources.repoDir, a.commit, b.commit), params, metrics,
      data: await dataDiff(a, b, sources, notes), top20: modelA && modelB ? top20Changes(modelA.model, modelB.model, options) : null, notes,
    };
  } finally {
    await Promise.all([modelA?.close(), modelB?.close()]);
  }
}

/** A release's model, loaded from its directory, or from a temporary copy of the store's. */
async function openModel(r: ReleaseRecord, sources: ChainSources, notes: string[]): Promise<{ model: RecModel; meta: RecModel["meta"]; close: () => Promise<void> } | null> {
  const set = await locate(sources.store, "models", r.modelHash, r.modelDir);
  if (!set) {
    notes.push(`model of ${r.releaseId} is gone (${r.modelDir}, not in the store)`);
    return null;
  }
  if (!set.where.startsWith("store:")) {
    const model = await loadRecModel(set.where, { allowGateFailed: true });
    return { model, meta: model.meta, close: async () => {} };
  }
  const tmp = await mkdtemp(join(tmpdir(), "recsys-diff-"));
  try {
    await sources.store.restore(set.where.slice("store:".length), join(tmp, "model"), "model");
    const model = await loadRecModel(join(tmp, "model"), { allowGateFailed: true });
    return { model, meta: model.meta, close: () => rm(tmp, { recursive: true, force: true }) };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function commitsBetween(repoDir: string, from: string, to: string): Promise<ReleaseDiff["commits"]> {
  if (from === to) return { list: [] };
  try {
    const log = await simpleGit({ baseDir: repoDir }).log({ from, to });
    return { list: log.all.map((c) => ({ hash: c.hash, subject: c.message, author: `${c.author_name} <${c.author_email}>`, date: c.date })) };
  } catch (err) {
    return { list: [], error: `git log ${from.slice(0, 12)}..${to.slice(0, 12)} in ${repoDir}: ${(err as Error).message.split("\n")[0]}` };
  }
}

interface RatingsSummary { rows: number; users: Set<string>; movies: Set<string> }

async function dataDiff(a: ReleaseRecord, b: ReleaseRecord, sources: ChainSources, notes: string[]): Promise<ReleaseDiff["data"]> {
  const read = async (r: ReleaseRecord): Promise<RatingsSummary | null> => {
    const set = await locate(sources.store, "data", r.dataHash, null);
    const file = set?.files.get(DATASET_FILES.ratings);
    if (!file) {
      notes.push(`training data of ${r.releaseId} is not in the store`);
      return null;
    }
    const s: RatingsSummary = { rows: 0, users: new Set(), movies: new Set() };
    await readCsvLines(file, RATINGS_HEADER, (f) => { s.rows++; s.users.add(f[0]!); s.movies.add(f[1]!); });
    return s;
  };
  const same = a.dataHash === b.dataHash;
  const [da, db] = [await read(a), same ? null : await read(b)];
  const sb = same ? da : db;
  const newOf = (x: Set<string> | undefined, y: Set<string> | undefined) => (x && y ? [...y].filter((v) => !x.has(v)).length : null);
  return {
    same, ratingsA: da?.rows ?? null, ratingsB: sb?.rows ?? null, rowsAdded: da && sb ? sb.rows - da.rows : null,
    newUsers: newOf(da?.users, sb?.users), newMovies: newOf(da?.movies, sb?.movies),
  };
}

/** Share of sampled users whose ranked top 20 differs; the sample is drawn from both models' users with a seeded rng. */
function top20Changes(a: RecModel, b: RecModel, o: DiffOptions): NonNullable<ReleaseDiff["top20"]> {
  const seed = o.seed ?? 42;
  const users = [...new Set([...a.meta.userIds, ...b.meta.userIds])].sort((x, y) => x - y);
  const rng = createRng(seed);
  // A partial Fisher-Yates shuffle: the first `n` are a uniform sample without repeats.
  const n = Math.min(o.sample ?? 500, users.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng.next() * (users.length - i));
    [users[i], users[j]] = [users[j]!, users[i]!];
  }
  let changed = 0;
  for (const u of users.slice(0, n)) {
    if (recommend(a, u).ids.join(",") !== recommend(b, u).ids.join(",")) changed++;
  }
  return { sampled: n, changed, share: n ? changed / n : 0, seed };
}
