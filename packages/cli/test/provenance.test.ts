import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiServer, resolveApiConfig, writeSyntheticRecModel } from "@recsys/api";
import { computeModelHash, type ModelMeta } from "@recsys/artifact";
import { md5Dir, md5File, sleep } from "@recsys/core";
import { appendRelease, checkDeployable, releaseGit, writeManifest } from "@recsys/deploy";
import { archiveReleases, createStore, keepReleases, type ArchiveResult } from "@recsys/provenance";
import { runCapture } from "./run-cli.ts";

// One platform's worth of records, built for real: a dataset, a model trained "on" it (its
// dataHash), a release in releases.jsonl, and answers served over HTTP by an API on loopback
// that logged them. The commit is this repository's HEAD.
let base: string, state: string, dataDir: string, modelDir: string, commit: string, manifestFile: string;
let stored: ArchiveResult[];
const answers: Array<{ requestId: string; body: string; user: number }> = [];

async function writeDataset(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const ratings = Array.from({ length: 40 }, (_, i) => `${2 * (i % 10)},movie+${i}+1999,${1 + (i % 5)},2026-11-0${1 + (i % 9)}T10:00:00.000000`);
  await writeFile(join(dir, "ratings.csv"), ["user_id,movie_id,rating,time", ...ratings].join("\n") + "\n");
  await writeFile(join(dir, "users.jsonl"), Array.from({ length: 10 }, (_, u) => JSON.stringify({ user_id: 2 * u })).join("\n") + "\n");
  const dataHash = (await md5Dir(dir)).md5.replace(/\.dir$/, "");
  const files = { "ratings.csv": await md5File(join(dir, "ratings.csv")), "users.jsonl": await md5File(join(dir, "users.jsonl")) };
  const manifest = { schemaVersion: 1, source: "test", counts: { ratings: 40, users: 10 }, timeRange: { first: "2026-11-01T10:00:00.000000", last: "2026-11-09T10:00:00.000000" }, files, dataHash };
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest) + "\n");
  return dataHash;
}

async function writeModel(dir: string, dataHash: string): Promise<ModelMeta> {
  const written = await writeSyntheticRecModel(dir, { users: 50, movies: 80, seed: 3 });
  const { modelHash: _old, ...rest } = { ...written, dataHash };
  const meta = { ...rest, modelHash: computeModelHash(rest) };
  await writeFile(join(dir, "model.json"), JSON.stringify(meta, null, 2));
  return meta;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "prov-cli-"));
  state = join(base, "state");
  dataDir = join(base, "data");
  modelDir = join(base, "model");
  const meta = await writeModel(modelDir, await writeDataset(dataDir));
  // The manifest as deploy writes it (this checkout may be dirty while it is worked on).
  const git = await releaseGit(process.cwd(), { RECSYS_ALLOW_DIRTY: "1" }, {});
  commit = git.commit;
  const manifest = await writeManifest(state, { releaseId: "r1", model: await checkDeployable(modelDir), git, env: { USER: "ada" } });
  manifestFile = manifest.path;
  const now = new Date().toISOString();
  await appendRelease(join(state, "releases.jsonl"), {
    releaseId: "r1", verdict: "initial", reason: "platform started", modelId: meta.modelHash.slice(0, 12), modelHash: meta.modelHash, modelDir,
    dataHash: meta.dataHash, commit, previousReleaseId: null, startedAt: now, canaryAt: null, decidedAt: null, finishedAt: now, evidence: null, replicas: ["r1@1"],
    manifestMd5: manifest.md5,
  });
  const api = createApiServer(resolveApiConfig({ modelDir, port: 0, release: "r1", commit, logDir: join(state, "replicas", "r1@1"), logFlushMs: 20, exploreShare: 0.1 }));
  const { url } = await api.listen();
  for (const user of [4, 7, 4]) {
    const res = await fetch(`${url}/recommend/${user}`);
    answers.push({ requestId: res.headers.get("x-request-id")!, body: await res.text(), user });
    await sleep(5); // log times are in ms: keep the user's two answers apart for --at
  }
  await api.close();
  // What `recsys deploy --data DIR` does once the release is recorded.
  stored = await archiveReleases(state, createStore(join(state, "cache")), { dataDir });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("recsys provenance", () => {
  it("traces an answer served over HTTP to its release, model, data and commit", async () => {
    const { code, stdout } = await runCapture(["provenance", "trace", answers[1]!.requestId, "--state", state, "--json"]);
    expect(code).toBe(0);
    const trace = JSON.parse(stdout);
    expect(trace.response.ids.join(",")).toBe(answers[1]!.body);
    expect(trace.response.exploreSlots).toHaveLength(2);
    expect(trace.links.map((l: { name: string; ok: boolean }) => `${l.name}:${l.ok}`)).toEqual(["response:true", "release:true", "manifest:true", "model:true", "data:true", "commit:true"]);
    expect(trace.links[2].source).toBe(manifestFile);
    expect(trace.links[2].details).toMatchObject({ releaseId: "r1", deployedBy: "ada", fairness: null, params: { seed: 3 } });
    expect(trace.links[4].source).toBe(dataDir);
    expect(trace.links[4].details.counts).toEqual({ ratings: 40, users: 10 });
    expect(trace.links[5].details.hash).toBe(commit);
  }, 30_000);

  it("picks the answer in force for --user --at, and prints the chain as text", async () => {
    const { code, stdout } = await runCapture(["provenance", "trace", "--user", "4", "--at", "2999-01-01T00:00:00Z", "--telemetry", join(state, "replicas", "r1@1"), "--state", state]);
    expect(code).toBe(0);
    expect(stdout).toContain(`request ${answers[2]!.requestId}`);
    expect(stdout).toContain("chain verified");
    // At the time of the user's first answer, the first one was in force, not the later one.
    const first = JSON.parse((await runCapture(["provenance", "trace", answers[0]!.requestId, "--state", state, "--json"])).stdout);
    const then = await runCapture(["provenance", "trace", "--user", "4", "--at", first.response.time, "--state", state, "--json"]);
    expect(JSON.parse(then.stdout).response.requestId).toBe(answers[0]!.requestId);
  });

  it("exits 2 with one line for an unknown request id or a missing telemetry directory", async () => {
    for (const argv of [["trace", "nope-1", "--state", state], ["trace", answers[0]!.requestId, "--telemetry", join(base, "missing")], ["verify", "r9", "--state", state]]) {
      const { code, stderr } = await runCapture(["provenance", ...argv, "--repo", base]);
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("tells a deploy without --data that its training data is not kept, and keeps the model", async () => {
    const other = createStore(join(base, "other-store"));
    expect(await keepReleases(state, other)).toEqual(["release r1's training data not in the provenance store (pass --data DIR)"]);
    expect(await other.has((await md5Dir(modelDir)).md5)).toBe(true);
  });

  it("still traces and verifies from the store once the model and data directories are gone", async () => {
    expect(stored).toEqual([{ releaseId: "r1", model: (await md5Dir(modelDir)).md5, data: (await md5Dir(dataDir)).md5 }]);
    await rm(modelDir, { recursive: true });
    await rm(dataDir, { recursive: true });
    const manifestBytes = await readFile(manifestFile);
    await rm(manifestFile);
    const trace = await runCapture(["provenance", "trace", answers[0]!.requestId, "--state", state, "--json"]);
    expect(trace.code).toBe(0);
    const links = JSON.parse(trace.stdout).links;
    expect(links[2].source).toMatch(/^store:[0-9a-f]{32}$/);
    expect(links[3].source).toMatch(/^store:[0-9a-f]{32}\.dir$/);
    expect(links[4].source).toMatch(/^store:/);
    expect((await runCapture(["provenance", "verify", "--all", "--state", state])).code).toBe(0);
    // Put the directories back from the store for the tamper tests below.
    const store = createStore(join(state, "cache"));
    await store.restore(stored[0]!.model!, modelDir, "model");
    await store.restore(stored[0]!.data!, dataDir, "dataset");
    await writeFile(manifestFile, manifestBytes);
  }, 30_000);

  it("gc --dry-run keeps what the history needs; diff of a release with itself changes nothing; an unknown release is exit 2", async () => {
    const gc = await runCapture(["provenance", "gc", "--dry-run", "--grace", "0", "--state", state, "--json"]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({ kept: ["r1"], removed: [], dryRun: true });
    const diff = await runCapture(["provenance", "diff", "r1", "r1", "--state", state]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("params: unchanged");
    expect(diff.stdout).toMatch(/top 20 changed for 0 of 50 sampled users/);
    const unknown = await runCapture(["provenance", "diff", "r1", "r9", "--state", state]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
  }, 30_000);

  it("reports a tampered model file and an edited ratings file as broken links, exit 6", async () => {
    const tensor = join(modelDir, "item_bias.f32");
    const original = await readFile(tensor);
    const edited = Buffer.from(original);
    edited[0] = edited[0]! ^ 0xff;
    await writeFile(tensor, edited);
    await appendFile(join(dataDir, "ratings.csv"), "2,movie+1+1999,5,2026-11-10T10:00:00.000000\n");
    const { code, stdout } = await runCapture(["provenance", "verify", "r1", "--state", state]);
    expect(code).toBe(6);
    expect(stdout).toMatch(/BROKEN model +tensor item_bias \(item_bias\.f32\) changed/);
    expect(stdout).toMatch(/BROKEN data +ratings\.csv changed since ingestion/);
    expect(stdout).toContain("chain broken at: model, data");
    // An edited manifest (a param rewritten after the fact) no longer has the md5 the release recorded.
    await writeFile(manifestFile, (await readFile(manifestFile, "utf8")).replace('"seed": 3', '"seed": 4'));
    const again = await runCapture(["provenance", "verify", "r1", "--state", state]);
    expect(again.stdout).toMatch(/BROKEN manifest +manifest changed since the release/);
    const trace = await runCapture(["provenance", "trace", answers[0]!.requestId, "--state", state]);
    expect(trace.code).toBe(6);
    expect(trace.stdout).toMatch(/expected [0-9a-f]{64}\n.*found +[0-9a-f]{64}/);
  }, 30_000);
});

describe("recsys deploy --data keeps a release's model and data for provenance", () => {
  it("a platform started by deploy --init answers through its router; the answer traces from the store after the run directories are gone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prov-deploy-"));
    const stateDir = join(dir, "state"), data = join(dir, "data"), model = join(dir, "model");
    await writeModel(model, await writeDataset(data));
    const token = process.env.RECSYS_ADMIN_TOKEN;
    process.env.RECSYS_ADMIN_TOKEN = "test-token-0123456789";
    try {
      const wrong = await runCapture(["deploy", "--init", "--model", model, "--data", modelDir, "--state", stateDir]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/--data .*not the dataset/);
      const up = await runCapture(["deploy", "--init", "--model", model, "--data", data, "--state", stateDir, "--replicas", "1", "--router-port", "0", "--json"]);
      expect(up.code, up.stderr).toBe(0);
      let requestId: string | null = null;
      try {
        const res = await fetch(`${JSON.parse(up.stdout).router.url}/recommend/6`);
        expect(res.status).toBe(200);
        requestId = res.headers.get("x-request-id");
        await res.text();
      } finally {
        expect((await runCapture(["deploy", "--down", "--state", stateDir])).code).toBe(0);
      }
      await rm(model, { recursive: true });
      await rm(data, { recursive: true });
      const trace = await runCapture(["provenance", "trace", requestId!, "--state", stateDir, "--json"]);
      expect(trace.code, trace.stdout).toBe(0);
      const links = JSON.parse(trace.stdout).links as Array<{ name: string; source: string }>;
      expect(links.filter((l) => l.source.startsWith("store:")).map((l) => l.name)).toEqual(["model", "data"]);
      expect(links.find((l) => l.name === "manifest")!.source).toMatch(/manifests\/r[\w-]+\.json$/);
    } finally {
      if (token === undefined) delete process.env.RECSYS_ADMIN_TOKEN;
      else process.env.RECSYS_ADMIN_TOKEN = token;
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
