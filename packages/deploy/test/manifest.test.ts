import { access, readFile, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProcessDriver, deployModel, readManifest, readReleases, releaseGit, startPlatform, type Platform, type ReplicaDriver,
} from "@recsys/deploy";
import { tempDir, writeTestModel } from "./fixtures.ts";

// A git repository of its own per test file: clean, then with an edited tracked file.
let repo: string;
beforeAll(async () => {
  repo = await tempDir("manifest-git");
  const git = simpleGit({ baseDir: repo });
  await git.init(["-b", "main"]).addConfig("user.name", "Ada").addConfig("user.email", "ada@example.org");
  await writeFile(join(repo, "train.ts"), "one\n");
  await git.add("train.ts").commit("train: first model");
});

describe("release git facts and the dirty-tree refusal", () => {
  it("reads branch, subject and author date of a clean tree; an untracked file is not dirty", async () => {
    await writeFile(join(repo, "notes.txt"), "scratch\n");
    const git = await releaseGit(repo, {}, {});
    expect(git).toMatchObject({ branch: "main", dirty: false, allowDirty: false, subject: "train: first model" });
    expect(git.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(Date.parse(git.authorDate!)).not.toBeNaN();
  });

  it("refuses an edited tracked file unless --allow-dirty (or RECSYS_ALLOW_DIRTY=1), and records the permission", async () => {
    await writeFile(join(repo, "train.ts"), "two\n");
    await expect(releaseGit(repo, {}, {})).rejects.toMatchObject({ code: "DEPLOY_DIRTY_TREE", exitCode: 2 });
    expect(await releaseGit(repo, {}, { allowDirty: true })).toMatchObject({ dirty: true, allowDirty: true });
    expect(await releaseGit(repo, { RECSYS_ALLOW_DIRTY: "1" }, {})).toMatchObject({ dirty: true, allowDirty: true });
    // A commit named from outside (CI, a container) that is not this checkout's HEAD: the tree says nothing about it.
    expect(await releaseGit(repo, { RECSYS_GIT_COMMIT: "0123456789abcdef" }, {})).toMatchObject({ dirty: null, commit: "0123456789abcdef" });
  });

  it("a deploy from a dirty tree starts nothing and writes no manifest", async () => {
    const root = await tempDir("dirty-deploy");
    const started: string[] = [];
    const driver: ReplicaDriver = { name: "never", start: async (spec) => { started.push(spec.releaseId); throw new Error("must not start"); }, stop: async () => {}, list: () => [] };
    const model = await writeTestModel(join(root, "m1"), 1);
    const target = { driver, router: null as never, stateDir: join(root, "state"), cwd: repo, env: {} };
    await expect(deployModel(target, model)).rejects.toMatchObject({ code: "DEPLOY_DIRTY_TREE" });
    expect(started).toEqual([]);
    await expect(access(join(root, "state", "manifests"))).rejects.toThrow();
    // Allowed, it gets past the git check to the next one: no platform runs from that state directory.
    await expect(deployModel(target, model, { allowDirty: true })).rejects.toMatchObject({ code: "DEPLOY_NO_PLATFORM" });
  });
});

describe("release manifests (real processes)", () => {
  let root: string, platform: Platform, driver: ReplicaDriver;
  const ci = { CI_PIPELINE_ID: process.env.CI_PIPELINE_ID, CI_JOB_URL: process.env.CI_JOB_URL };
  beforeAll(async () => {
    root = await tempDir("manifest-platform");
    driver = createProcessDriver({ logDir: join(root, "replicas") });
    process.env.CI_PIPELINE_ID = "4711";
    process.env.CI_JOB_URL = "https://gitlab.example.org/recsys/-/jobs/99";
    platform = await startPlatform({ modelDir: await writeTestModel(join(root, "m1"), 1), driver, stateDir: join(root, "state"), replicas: 1, allowDirty: true });
  }, 60_000);
  afterAll(async () => {
    for (const [k, v] of Object.entries(ci)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await platform?.stop();
  });

  it("writes the manifest before the release serves; its md5 is in the record and in /version through the router", async () => {
    const [record] = await readReleases(join(root, "state", "releases.jsonl"));
    const path = join(root, "state", "manifests", `${record!.releaseId}.json`);
    const bytes = await readFile(path);
    expect(record!.manifestMd5).toBe(createHash("md5").update(bytes).digest("hex"));
    const { manifest } = await readManifest(path);
    expect(manifest).toMatchObject({
      releaseId: record!.releaseId, git: { commit: record!.commit, allowDirty: true }, model: { modelHash: record!.modelHash },
      data: { md5: record!.dataHash }, params: { seed: 1 }, metrics: { rmse: 0.9 }, gate: { metric: "rmse", passed: true }, fairness: null,
      ci: { pipelineId: "4711", jobUrl: "https://gitlab.example.org/recsys/-/jobs/99" },
    });
    expect(manifest!.model.md5).toMatch(/^[0-9a-f]{32}\.dir$/);
    const version = await (await fetch(`${platform.routerUrl}/version`)).json();
    expect(version).toMatchObject({ release: record!.releaseId, manifestMd5: record!.manifestMd5 });
  });
});
