import { createHash } from "node:crypto";
import { userInfo } from "node:os";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { simpleGit } from "simple-git";
import { z } from "zod";
import { ModelMetaSchema } from "@recsys/artifact";
import { md5Dir, parseOrThrow, writeFileAtomic } from "@recsys/core";
import { InputError } from "@recsys/core";
import { DEPLOY_ERRORS } from "./errors.ts";
import { gitCommit } from "./git.ts";
import type { ModelIdentity } from "./model-check.ts";
import { STATE_FILES } from "./state.ts";

/**
 * What a release is, written once before its first replica starts and never rewritten:
 * `STATE/manifests/<releaseId>.json`. Its md5 goes into the release record and into every
 * replica's `/version`, so an answer, its release record and this file vouch for each other.
 */
export const ReleaseManifestSchema = z.strictObject({
  version: z.literal(1),
  releaseId: z.string(),
  git: z.strictObject({
    commit: z.string(),
    branch: z.string().nullable(),
    /** Uncommitted changes to tracked files (git describe --dirty's rule); null when unknown (no checkout, or HEAD is not the commit). */
    dirty: z.boolean().nullable(),
    /** The release went out from a dirty tree on purpose (`--allow-dirty`). */
    allowDirty: z.boolean(),
    subject: z.string().nullable(),
    authorDate: z.string().nullable(),
  }),
  model: z.strictObject({ modelId: z.string(), modelHash: z.string(), md5: z.string(), dir: z.string() }),
  /** DVC's directory md5 of the training data files (the model's dataHash). */
  data: z.strictObject({ md5: z.string() }),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  metrics: z.record(z.string(), z.number()),
  /** The model's gate verdict exactly as its model.json records it (one schema: the artifact's). */
  gate: ModelMetaSchema.shape.gate,
  /** The fairness gate's verdict with its evidence; null when deploy ran no gate (no `--data`). */
  fairness: z.unknown().nullable(),
  ci: z.strictObject({ pipelineId: z.string().nullable(), jobUrl: z.string().nullable() }).nullable(),
  deployedBy: z.string(),
  deployedAt: z.string(),
});
export type ReleaseManifest = z.infer<typeof ReleaseManifestSchema>;

/** The environment variable that tells a replica its release manifest's md5 (shown by /version). */
export const MANIFEST_ENV = "RECSYS_MANIFEST_MD5";

export const manifestPath = (stateDir: string, releaseId: string): string => join(stateDir, STATE_FILES.manifests, `${releaseId}.json`);

type GitFacts = ReleaseManifest["git"];

/**
 * The tree a release is built from: branch, dirty flag, subject and author date of `commit`.
 * Dirty is only known when `dir` is a checkout whose HEAD is `commit` (a CI job that names its
 * commit through RECSYS_GIT_COMMIT may run elsewhere).
 */
export async function gitFacts(dir: string, commit: string, allowDirty: boolean): Promise<GitFacts> {
  const facts: GitFacts = { commit, branch: null, dirty: null, allowDirty, subject: null, authorDate: null };
  const git = simpleGit({ baseDir: dir });
  try {
    const [head, branch, status] = await Promise.all([git.revparse(["HEAD"]), git.revparse(["--abbrev-ref", "HEAD"]), git.status()]);
    if (head.trim() === commit) {
      facts.branch = branch.trim() === "HEAD" ? null : branch.trim();
      facts.dirty = status.files.some((f) => f.index !== "?");
    }
    const [subject = "", date = ""] = (await git.show(["-s", "--format=%s%n%aI", commit])).trim().split("\n");
    facts.subject = subject || null;
    facts.authorDate = date || null;
  } catch {
    // Not a checkout, git missing, or an unknown commit: the facts stay null, the manifest says so.
  }
  return facts;
}

/**
 * The commit and git facts of a release about to start, refused (DEPLOY_DIRTY_TREE, exit 2) when
 * the tree is dirty and neither `allowDirty` nor RECSYS_ALLOW_DIRTY=1 allows it: the code
 * released would not be the commit it names.
 *
 *     const git = await releaseGit(process.cwd(), process.env, { allowDirty: false });
 */
export async function releaseGit(dir: string, env: Record<string, string | undefined>, o: { commit?: string; allowDirty?: boolean }): Promise<GitFacts> {
  const commit = o.commit ?? (await gitCommit(dir, env));
  const git = await gitFacts(dir, commit, o.allowDirty === true || env.RECSYS_ALLOW_DIRTY === "1");
  if (git.dirty && !git.allowDirty) {
    throw new InputError(DEPLOY_ERRORS.dirtyTree, `git tree ${dir}: uncommitted changes, so commit ${commit.slice(0, 12)} is not what would be released; commit them, or pass --allow-dirty (recorded in the release manifest)`);
  }
  return git;
}

export interface ManifestInput {
  releaseId: string;
  model: ModelIdentity;
  git: GitFacts;
  env: Record<string, string | undefined>;
  /** The fairness gate's verdict, when deploy ran it. */
  fairness?: unknown;
  now?: Date;
}

/**
 * Builds the manifest of a release and writes it atomically next to releases.jsonl; returns it
 * with the md5 of its bytes.
 *
 *     const { md5 } = await writeManifest("runs/platform", { releaseId, model, git, env: process.env });
 */
export async function writeManifest(stateDir: string, input: ManifestInput): Promise<{ manifest: ReleaseManifest; md5: string; path: string }> {
  const { model, env } = input;
  const manifest: ReleaseManifest = {
    version: 1, releaseId: input.releaseId, git: input.git,
    model: { modelId: model.modelId, modelHash: model.modelHash, md5: (await md5Dir(model.modelDir)).md5, dir: model.modelDir },
    data: { md5: model.dataHash }, params: model.hyperParams, metrics: model.metrics, gate: model.gate, fairness: input.fairness ?? null,
    ci: env.CI_PIPELINE_ID || env.CI_JOB_URL ? { pipelineId: env.CI_PIPELINE_ID || null, jobUrl: env.CI_JOB_URL || null } : null,
    deployedBy: env.GITLAB_USER_LOGIN || env.USER || userInfo().username, deployedAt: (input.now ?? new Date()).toISOString(),
  };
  const bytes = JSON.stringify(parseOrThrow(ReleaseManifestSchema, manifest, "release manifest"), null, 2) + "\n";
  const path = manifestPath(stateDir, input.releaseId);
  await writeFileAtomic(path, bytes);
  return { manifest, md5: createHash("md5").update(bytes).digest("hex"), path };
}

/** Reads a manifest file: its parsed content (null when it does not parse) and the md5 of its bytes. */
export async function readManifest(path: string): Promise<{ manifest: ReleaseManifest | null; md5: string }> {
  const bytes = await readFile(path);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    json = null;
  }
  return { manifest: ReleaseManifestSchema.safeParse(json).data ?? null, md5: createHash("md5").update(bytes).digest("hex") };
}
