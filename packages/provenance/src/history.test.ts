import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticRecModel } from "@recsys/api";
import { computeModelHash } from "@recsys/artifact";
import { md5Dir, md5File } from "@recsys/core";
import { appendRelease, checkDeployable, writeManifest } from "@recsys/deploy";
import { createStore, type Store } from "./store.ts";
import { archiveReleases } from "./archive.ts";
import { diffReleases } from "./diff.ts";
import { collectGarbage } from "./gc.ts";

// Three releases: r1 and r2 trained on dataset A at a first commit, r3 on B at a second one; A and
// B share users.jsonl byte for byte. Diff runs first, then gc removes what is no longer kept.
let base: string, state: string, repo: string, store: Store;
const commits: string[] = [];
const keys: Record<string, { model: string; data: string; manifest: string; modelHash: string }> = {};

async function dataset(dir: string, ratings: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "users.jsonl"), '{"user_id":1}\n{"user_id":2}\n');
  await writeFile(join(dir, "ratings.csv"), ["user_id,movie_id,rating,time", ...Array.from({ length: ratings }, (_, i) => `1,m${i},4,2026-11-01T10:00:00`)].join("\n") + "\n");
  return (await md5Dir(dir)).md5.replace(/\.dir$/, "");
}

async function release(id: string, seed: number, dataDir: string, dataHash: string, commit: string): Promise<void> {
  const dir = join(base, `model-${id}`);
  const { modelHash: _old, ...rest } = { ...(await writeSyntheticRecModel(dir, { users: 20, movies: 30, seed })), dataHash };
  await writeFile(join(dir, "model.json"), JSON.stringify({ ...rest, modelHash: computeModelHash(rest) }));
  const model = await checkDeployable(dir);
  const git = { commit, branch: null, dirty: null, allowDirty: false, subject: null, authorDate: null };
  const manifest = await writeManifest(state, { releaseId: id, model, git, env: { USER: "ada" } });
  const now = new Date().toISOString();
  await appendRelease(join(state, "releases.jsonl"), {
    releaseId: id, verdict: "promoted", reason: "test", modelId: model.modelId, modelHash: model.modelHash, modelDir: dir, dataHash, commit,
    previousReleaseId: null, startedAt: now, canaryAt: null, decidedAt: null, finishedAt: now, evidence: null, replicas: [], manifestMd5: manifest.md5,
  });
  await archiveReleases(state, store, { dataDir });
  keys[id] = { model: (await md5Dir(dir)).md5, data: `${dataHash}.dir`, manifest: manifest.md5, modelHash: model.modelHash };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "prov-gc-"));
  state = join(base, "state");
  store = createStore(join(state, "cache"));
  repo = join(base, "repo");
  await mkdir(repo);
  const git = simpleGit({ baseDir: repo });
  await git.init().addConfig("user.name", "Ada").addConfig("user.email", "ada@example.org");
  for (const subject of ["first model", "train: more factors"]) {
    await writeFile(join(repo, "train.ts"), subject);
    await git.add("train.ts").commit(subject);
    commits.push((await git.revparse(["HEAD"])).trim());
  }
  const a = await dataset(join(base, "data-a"), 5);
  const b = await dataset(join(base, "data-b"), 8);
  await release("r1", 1, join(base, "data-a"), a, commits[0]!);
  await release("r2", 2, join(base, "data-a"), a, commits[0]!);
  await release("r3", 3, join(base, "data-b"), b, commits[1]!);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("provenance diff", () => {
  it("names the commits, params, data and metrics that changed, and the share of users whose top 20 changed", async () => {
    const d = await diffReleases("r1", "r3", { stateDir: state, store, repoDir: repo }, { sample: 50 });
    expect(d.commits.list.map((c) => c.subject)).toEqual(["train: more factors"]);
    expect(d.params).toEqual([{ key: "seed", a: 1, b: 3 }]);
    expect(d.data).toEqual({ same: false, ratingsA: 5, ratingsB: 8, rowsAdded: 3, newUsers: 0, newMovies: 3 });
    expect(d.metrics.map((m) => m.key)).toContain("rmse");
    expect(d.top20).toMatchObject({ sampled: 20, seed: 42 });
    expect(d.top20!.changed).toBeGreaterThan(0);
  });

  it("finds nothing changed between a release and itself, from the store once the model directory is gone", async () => {
    await rm(join(base, "model-r2"), { recursive: true });
    const d = await diffReleases("r2", "r2", { stateDir: state, store, repoDir: repo });
    expect(d).toMatchObject({ commits: { list: [] }, params: [], data: { same: true, rowsAdded: 0 }, top20: { changed: 0 }, notes: [] });
  });
});

describe("provenance gc", () => {
  it("keeps everything every release of the history needs by default", async () => {
    const r = await collectGarbage(state, store, { graceMs: 0 });
    expect(r.kept).toEqual(["r1", "r2", "r3"]);
    expect(r.removed).toEqual([]);
  });

  it("with --keep-last and --dry-run, reports what would go and removes nothing", async () => {
    const before = await store.objects();
    const r = await collectGarbage(state, store, { keepLast: 1, dryRun: true, graceMs: 0 });
    expect(r.kept).toEqual(["r3"]);
    const removed = new Set(r.removed.map((o) => o.key));
    for (const id of ["r1", "r2"]) expect(removed.has(keys[id]!.manifest) && removed.has(keys[id]!.model)).toBe(true);
    expect(removed.has(keys.r1!.data)).toBe(true);
    // users.jsonl is in dataset B too: still needed.
    expect(removed.has(await md5File(join(base, "data-a", "users.jsonl")))).toBe(false);
    expect(r.freedBytes).toBeGreaterThan(0);
    expect(await store.objects()).toEqual(before);
  });

  it("never removes what the running platform serves, nor objects younger than the grace period", async () => {
    const stable = { releaseId: "r1", modelHash: keys.r1!.modelHash, modelDir: join(base, "model-r1") };
    await writeFile(join(state, "state.json"), JSON.stringify({ version: 1, router: { url: "http://127.0.0.1:1", adminUrl: "http://127.0.0.1:2", pid: null }, eventLog: { path: "e", releasesPath: "r" }, stable, replicas: [], updatedAt: new Date().toISOString() }));
    expect((await collectGarbage(state, store, { keepLast: 1, dryRun: true })).removed).toEqual([]);
    const r = await collectGarbage(state, store, { keepLast: 1, graceMs: 0 });
    expect(r.running).toEqual(["r1"]);
    expect(r.kept).toEqual(["r1", "r3"]);
    for (const id of ["r1", "r3"]) {
      expect(await store.has(keys[id]!.model)).toBe(true);
      expect(await store.has(keys[id]!.data)).toBe(true);
      expect(await store.has(keys[id]!.manifest)).toBe(true);
    }
    expect(await store.has(keys.r2!.model)).toBe(false);
    expect(await store.has(keys.r2!.manifest)).toBe(false);
    expect(await store.ref("models", keys.r2!.modelHash)).toBeNull();
    // What is kept still restores byte for byte.
    await store.restore(keys.r1!.model, join(base, "restored-r1"), "model");
    expect((await md5Dir(join(base, "restored-r1"))).md5).toBe(keys.r1!.model);
  });
});
