import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mainJobPaths, runMainJob, type MainJobSummary } from "@recsys/platform";
import { ROOT, dockerUnavailableReason, run, warnSkipped } from "./test-support.ts";

// The real .gitlab-ci.yml run by gitlab-ci-local 4.41.0 through docker/gitlab-ci-local.sh (Docker
// executor for the data jobs, this machine's shell for the serving-host jobs), from a throw-away
// clone of this tree. The pipeline releases into a running main job, as a serving host's would.
// Its `test` job (the suite, which holds this file) is skipped by RECSYS_SKIP_TEST_SUITE.
// Skipped loudly where no Docker engine answers or gitlab-ci-local is not installed (.ci/run installs it).
const gcl = process.env.GITLAB_CI_LOCAL ?? ((await run("bash", ["-c", "command -v gitlab-ci-local"])).stdout.trim() || null);
const unavailable = (await dockerUnavailableReason())
  ?? (gcl ? null : "gitlab-ci-local not found: npm install gitlab-ci-local@4.41.0 and set GITLAB_CI_LOCAL (see .ci/run)");
if (unavailable) warnSkipped("docker/pipeline.test.ts", unavailable);

/**
 * Job name -> PASS/FAIL from gitlab-ci-local's closing summary (` PASS  train`): 4.41 exits 0
 * even when a job failed, so the summary is what tells.
 */
function jobResults(output: string): Record<string, string> {
  return Object.fromEntries([...output.matchAll(/^ (PASS|FAIL|WARN) {1,2}(\S+)\s*$/gm)].map((m) => [m[2]!, m[1]!]));
}

/** The output of the jobs that did not pass, to read when the expected outcome was not met. */
function failedOutput(output: string): string {
  const failed = Object.entries(jobResults(output)).filter(([, result]) => result !== "PASS").map(([job]) => job);
  return output.split("\n").filter((l) => failed.some((job) => l.startsWith(`${job} `))).slice(-80).join("\n");
}

describe.skipIf(unavailable !== null)("GitLab pipeline (gitlab-ci-local 4.41.0, real engine, offline images)", () => {
  const image = `recsys-pipeline-test-${process.pid}`;
  let root: string, checkout: string, commit: string;
  const world = { users: 800, movies: 300, days: 10, seed: 3 };
  // The model the pipeline trains must know the platform's users: both come from the same world.
  const variables = (extra: Record<string, string>) => Object.entries({
    RECSYS_SKIP_TEST_SUITE: "true", RECSYS_IMAGE_NAME: image, RECSYS_SEED: String(world.seed),
    RECSYS_SIM_USERS: String(world.users), RECSYS_SIM_MOVIES: String(world.movies), RECSYS_SIM_DAYS: String(world.days), ...extra,
  }).flatMap(([k, v]) => ["--variable", `${k}=${v}`]);
  const pipeline = (args: string[]) => run(join(checkout, "docker/gitlab-ci-local.sh"), args, { env: { GITLAB_CI_LOCAL: gcl! }, timeoutMs: 1_500_000 });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "pipeline-"));
    checkout = join(root, "checkout");
    // This tree as a fresh clone would see it (tracked and new files, nothing ignored), with an
    // origin that looks like GitLab's: gitlab-ci-local refuses to run without one, never contacts it.
    const cloned = await run("bash", ["-c", `mkdir -p "$1" && git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ "$1"/ && cd "$1" \
      && git init -q -b main && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm pipeline \
      && git remote add origin git@gitlab.example.com:recsys/platform.git && git rev-parse HEAD`, "clone", checkout]);
    expect(cloned.code, cloned.stderr).toBe(0);
    commit = cloned.stdout.trim();
  }, 120_000);

  afterAll(async () => {
    await run("docker", ["image", "rm", `${image}:${commit}`, `${image}:latest`]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("a model that fails the gate stops the pipeline at train, before build", async () => {
    const r = await pipeline(variables({ RECSYS_GATE_RMSE: "0.1", RECSYS_STATE_DIR: join(root, "no-platform-needed") }));
    const jobs = jobResults(r.stdout);
    expect(jobs, failedOutput(r.stdout)).toEqual({ collect: "PASS", preprocess: "PASS", train: "FAIL" });
    expect(r.stdout).toMatch(/recsys train: gate failed: held-out RMSE [\d.]+ is not below 0\.1/);
    expect((await run("docker", ["image", "inspect", `${image}:${commit}`])).code).not.toBe(0);
  }, 1_500_000);

  it("a good model goes through test, build and a canary into the running platform, and is promoted", async () => {
    const work = join(root, "platform-run");
    const paths = mainJobPaths(work);
    let stop = (): void => {};
    let up = (): void => {};
    const platformUp = new Promise<void>((resolve) => (up = resolve));
    const job: Promise<MainJobSummary> = runMainJob(
      { workDir: work, ...world, durationS: 1500, routerPort: 0, cycleS: 7200, rps: 20 },
      { event: (l) => { if (l.startsWith("platform: deploy your own model")) up(); } },
      new Promise<void>((resolve) => (stop = resolve)),
    );
    try {
      await Promise.race([platformUp, job]);
      const canaryConfig = join(root, "canary.json");
      await writeFile(canaryConfig, JSON.stringify({ minRequests: 40, minRequestsForRollback: 40 }));
      // The stream the platform's world wrote is the pipeline's input (mounted into the job containers).
      const r = await pipeline([...variables({
        RECSYS_STREAM_DIR: paths.world, RECSYS_STATE_DIR: paths.platform, RECSYS_CANARY_CONFIG: canaryConfig,
        RECSYS_CANARY_INTERVAL: "2", RECSYS_CANARY_MAX_WAIT: "300",
      }), "--volume", `${paths.world}:${paths.world}:ro`]);
      const jobs = jobResults(r.stdout);
      expect(jobs, failedOutput(r.stdout)).toEqual({ collect: "PASS", preprocess: "PASS", train: "PASS", build: "PASS", deploy: "PASS", analyse: "PASS", promote: "PASS" });

      // The image is tagged with the commit; the release carries it, and the pipeline's own model.
      expect((await run("docker", ["image", "inspect", `${image}:${commit}`])).code).toBe(0);
      const model = JSON.parse(await readFile(join(checkout, "models/candidate/model.json"), "utf8"));
      const history = (await readFile(join(paths.platform, "releases.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
      expect(history.at(-1)).toMatchObject({ verdict: "promoted", commit, modelHash: model.modelHash });
      expect(await readFile(join(checkout, "release/analysis.txt"), "utf8")).toMatch(/: promoted\n/);
      await access(join(checkout, "release/report.html"));
    } finally {
      stop();
      await job;
    }
  }, 1_800_000);
});
