import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DOCKER_LABELS, FRONT_FILES, FRONT_LABELS, FRONT_TEMPLATE, createDockerDriver, findNginxFront, initDockerPlatform,
  readPlatformState, readReleases, stopDockerPlatform, stopUnrecordedContainers, type PlatformState, type ReleaseRecord,
} from "@recsys/deploy";
import { ROOT, buildRecsysImage, dockerUnavailableReason, run, warnSkipped } from "../../../docker/test-support.ts";
import { USERS, tempDir, writeTestModel } from "./fixtures.ts";
import { steadyLoad } from "./load.ts";

// The Docker path with nginx in front, against a real engine: replica containers, an nginx
// container whose config the deploy renders, checks with `nginx -t` and reloads, and a steady
// load on loopback through it the whole time. Without an engine the file is skipped, loudly.
const unavailable = await dockerUnavailableReason();
if (unavailable) warnSkipped("packages/deploy/test/nginx-front.test.ts", unavailable);
const docker = new Docker();
const COMMIT = "c0ffee";
// The load's client retries a GET once when nginx's reload closes the kept-alive connection it
// went out on, as Go's http.Transport, curl and browsers do (see load.ts); that count is printed.
const CLIENT = { retryReusedConnection: true };
const CANARY = { minRequests: 40, minRequestsForRollback: 20 };

/**
 * `recsys deploy --driver docker --front nginx` as its own process, as a user runs it (the load
 * loop then has this process to itself): exit code, its last release record and its log.
 */
function deployCli(stateDir: string, model: string, canaryConfig: string): Promise<{ code: number; stderr: string; record: ReleaseRecord | undefined }> {
  const args = ["--import", "tsx", "packages/cli/src/main.ts", "deploy", "--model", model, "--driver", "docker", "--front", "nginx", "--state", stateDir,
    "--interval", "1", "--max-wait", "90", "--drain", "300", "--canary-config", canaryConfig];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, RECSYS_GIT_COMMIT: COMMIT }, timeout: 240_000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      void readReleases(join(stateDir, "releases.jsonl")).then((all) => resolve({ code, stderr, record: all.at(-1) }));
    });
  });
}

/** Containers of this state directory: replicas (by their telemetry path) and the front. */
async function containersOf(stateDir: string): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { label: ["org.recsys.driver=docker"] } });
  const front = await docker.listContainers({ all: true, filters: { label: [`${FRONT_LABELS.stateDir}=${stateDir}`] } });
  return [...all.filter((c) => c.Labels[DOCKER_LABELS.telemetryDir]?.startsWith(stateDir + "/")), ...front];
}

describe.skipIf(unavailable !== null)("docker driver with the nginx front (real engine, under load)", () => {
  let root: string, stateDir: string, state: PlatformState;

  beforeAll(async () => {
    await buildRecsysImage(false);
    if ((await run("docker", ["image", "inspect", "recsys-nginx:offline"])).code !== 0) expect((await run("docker/make-base-image.sh", ["nginx"])).code).toBe(0);
    root = await tempDir("nginx-front");
    stateDir = join(root, "state");
    await writeTestModel(join(root, "m1"), 1);
    const port = Number((await run("node", ["-e", "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"])).stdout);
    state = await initDockerPlatform({ modelDir: join(root, "m1"), stateDir, replicas: 2, port, env: { RECSYS_GIT_COMMIT: COMMIT } });
  }, 900_000);

  afterAll(async () => {
    if (!stateDir) return;
    await stopDockerPlatform(stateDir).catch(() => undefined);
    // Whatever a failed test left: only this file's containers, found by label.
    for (const c of await containersOf(stateDir)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }, 120_000);

  it("serves through nginx from the containers, labelled with what they serve", async () => {
    const answer = await fetch(`${state.router.url}/recommend/7`);
    expect(answer.status).toBe(200);
    expect((await answer.text()).trim().split(",").length).toBeGreaterThan(0);
    const replicas = (await containersOf(stateDir)).filter((c) => c.Labels[DOCKER_LABELS.release]);
    expect(replicas.map((c) => c.Labels[DOCKER_LABELS.release])).toEqual([state.stable.releaseId, state.stable.releaseId]);
    const [initial] = await readReleases(join(stateDir, "releases.jsonl"));
    expect(replicas.map((c) => [c.Labels[DOCKER_LABELS.modelHash], c.Labels[DOCKER_LABELS.dataHash], c.Labels[DOCKER_LABELS.commit]]))
      .toEqual([0, 1].map(() => [state.stable.modelHash, initial!.dataHash, initial!.commit]));
  });

  it("keeps the running config when nginx -t rejects a new rendering", async () => {
    const broken = join(root, "broken.conf.template");
    await writeFile(broken, (await readFile(FRONT_TEMPLATE, "utf8")).replace("proxy_next_upstream_tries 2;", "proxy_next_upstream_tries two;"));
    const front = await findNginxFront({ stateDir, templatePath: broken });
    const live = join(stateDir, FRONT_FILES.dir, FRONT_FILES.config);
    const [configBefore, tableBefore, generationBefore] = [await readFile(live, "utf8"), await front.releases(), await front.generation()];
    const [stable] = tableBefore;
    await expect(front.setReleases([{ ...stable!, upstreams: stable!.upstreams.slice(0, 1) }])).rejects.toMatchObject({ code: "DEPLOY_ROUTER", message: expect.stringMatching(/nginx -t refused.*proxy_next_upstream_tries/) });
    expect(await readFile(live, "utf8")).toBe(configBefore);
    expect(await front.releases()).toEqual(tableBefore);
    expect(await front.generation()).toBe(generationBefore);
    expect((await fetch(`${front.url}/recommend/1`)).status).toBe(200);
  });

  /**
   * `recsys deploy` of `model` through the front while a steady load loop runs: checks its exit
   * code and that no request failed, says what the loop saw, and returns the release record.
   */
  async function deployUnderLoad(what: "promote" | "rollback", model: string, canary: object, exitCode: number) {
    const config = join(root, `canary-${what}.json`);
    await writeFile(config, JSON.stringify(canary));
    const load = steadyLoad(state.router.url, 20, USERS, CLIENT);
    const { code, stderr, record } = await deployCli(stateDir, model, config);
    const result = await load.stop();
    expect(code, stderr).toBe(exitCode);
    if (!record) throw new Error(stderr);
    expect(result.failures, stderr).toEqual([]);
    process.stderr.write(`nginx front: ${what} of ${record.releaseId}: ${result.sent} requests, ${result.failures.length} failed, ${result.retried} retried on a fresh connection\n`);
    return { record, result };
  }

  it("promotes a canary under load with zero failed requests, replacing the stable containers", async () => {
    const { record, result } = await deployUnderLoad("promote", await writeTestModel(join(root, "m2"), 2), CANARY, 0);
    expect(record.verdict, record.reason).toBe("promoted");
    expect(result.byRelease[record.releaseId]).toBeGreaterThan(0);
    const serving = (await containersOf(stateDir)).filter((c) => c.Labels[DOCKER_LABELS.release] && c.State === "running");
    expect(serving.map((c) => c.Labels[DOCKER_LABELS.release])).toEqual([record.releaseId, record.releaseId]);
    expect(serving.every((c) => c.Labels[DOCKER_LABELS.modelHash] === record.modelHash)).toBe(true);
    expect((await findNginxFront({ stateDir }).then((f) => f.releases())).map((r) => [r.id, r.weight])).toEqual([[record.releaseId, 100]]);
  }, 300_000);

  it("rolls a failing canary back under load with zero failed requests and removes its container", async () => {
    const before = (await readPlatformState(stateDir))!;
    // A p99 limit no replica meets: the canary fails its latency test as soon as it has 20 answers.
    const { record } = await deployUnderLoad("rollback", await writeTestModel(join(root, "m3"), 3), { ...CANARY, maxP99Ms: 0.001 }, 5);
    expect(record.verdict, record.reason).toBe("rolled-back");
    expect((await containersOf(stateDir)).filter((c) => c.Labels[DOCKER_LABELS.release] === record.releaseId)).toEqual([]);
    expect((await findNginxFront({ stateDir }).then((f) => f.releases())).map((r) => [r.id, r.weight])).toEqual([[before.stable.releaseId, 100]]);
  }, 300_000);

  it("finds the front and a container no state file lists again by their labels after a restart", async () => {
    // What a deploy killed between starting a container and recording it leaves behind.
    const driver = createDockerDriver({ image: "recsys:latest", logDir: join(stateDir, "replicas"), env: { RECSYS_GIT_COMMIT: COMMIT } });
    const stray = await driver.start({ releaseId: "stray", modelDir: join(root, "m1") });
    const front = await findNginxFront({ stateDir });
    expect((await containersOf(stateDir)).map((c) => c.Id)).toContain(front.container);
    const stopped = await stopUnrecordedContainers(stateDir);
    expect(stopped.map((r) => r.handle)).toEqual([stray.handle]);
    expect((await containersOf(stateDir)).map((c) => c.Id)).not.toContain(stray.handle);
  }, 120_000);

  it("loses no request beyond nginx's one retry when a stable container is killed under load", async () => {
    const current = (await readPlatformState(stateDir))!;
    const load = steadyLoad(current.router.url, 20, USERS, CLIENT);
    await new Promise((r) => setTimeout(r, 1000));
    await docker.getContainer(current.replicas[0]!.handle).kill();
    await new Promise((r) => setTimeout(r, 3000));
    const result = await load.stop();
    expect(result.sent).toBeGreaterThan(50);
    expect(result.failures).toEqual([]);
  }, 60_000);
});
