import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "@recsys/core";
import { buildRecsysImage, dockerUnavailableReason, run, warnSkipped } from "./test-support.ts";

// The production path end to end against a real engine and Debian's docker-compose 1.29: image
// from the offline base, `docker-compose up`, answers through nginx, labels, teardown. Skipped
// (loudly) only where no engine answers or docker-compose is missing.
const composeMissing = (await run("docker-compose", ["version"]).catch(() => ({ code: 1 }))).code !== 0;
const unavailable = (await dockerUnavailableReason()) ?? (composeMissing ? "docker-compose not found: apt-get install -y docker-compose" : null);
if (unavailable) warnSkipped("docker/compose.test.ts", unavailable);

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

/** One GET through nginx: status, body and the release that answered. */
async function recommend(base: string, user: number | string): Promise<{ status: number; body: string; release: string }> {
  const res = await fetch(`${base}/recommend/${user}`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
  if (!res) return { status: 0, body: "", release: "" };
  return { status: res.status, body: (await res.text()).trim(), release: res.headers.get("x-release") ?? "" };
}

describe.skipIf(unavailable !== null)("docker-compose stack (real engine, nginx, compose 1.29)", () => {
  const project = `recsys-test-${process.pid}`;
  const env: Record<string, string> = {};
  const compose = (...args: string[]) => run("docker-compose", ["-p", project, "-f", "docker/compose.yaml", ...args], { env, timeoutMs: 300_000 });
  let base: string, buildMs: number;

  beforeAll(async () => {
    buildMs = await buildRecsysImage(true);
    const nginxImage = await run("docker", ["image", "inspect", "recsys-nginx:offline"]);
    if (nginxImage.code !== 0) expect((await run("docker/make-base-image.sh", ["nginx"])).code).toBe(0);
    const [nginx, canary, stable1, stable2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    Object.assign(env, { RECSYS_NGINX_PORT: String(nginx), RECSYS_CANARY_PORT: String(canary), RECSYS_STABLE1_PORT: String(stable1), RECSYS_STABLE2_PORT: String(stable2) });
    base = `http://127.0.0.1:${nginx}`;
  }, 900_000);

  afterAll(async () => {
    await compose("down", "-v", "--remove-orphans", "-t", "5");
  }, 120_000);

  it("comes up from `docker-compose up -d` and answers /recommend/<id> through nginx", async () => {
    const t0 = Date.now();
    const up = await compose("up", "-d");
    expect(up.code, up.stderr).toBe(0);
    let first = await recommend(base, 1);
    while (first.status !== 200 && Date.now() - t0 < 180_000) {
      await sleep(250);
      first = await recommend(base, 1);
    }
    const upMs = Date.now() - t0;
    process.stderr.write(`compose: image build ${(buildMs / 1000).toFixed(1)} s, up to first answer ${(upMs / 1000).toFixed(1)} s\n`);
    expect(first.status).toBe(200);
    expect(first.body.split(",")).toHaveLength(20);
    expect(first.body).toMatch(/^[^,\s]+(,[^,\s]+)*$/);
  }, 240_000);

  it("splits users 20/40/40 by release and keeps each user on one release", async () => {
    const users = Array.from({ length: 2000 }, (_, i) => i + 1);
    const first = new Map<number, string>();
    for (let i = 0; i < users.length; i += 50) {
      const batch = users.slice(i, i + 50);
      const answers = await Promise.all(batch.map((u) => recommend(base, u)));
      answers.forEach((a, j) => {
        expect(a.status).toBe(200);
        first.set(batch[j]!, a.release);
      });
    }
    const canaryShare = [...first.values()].filter((r) => r === "canary").length / users.length;
    // 2,000 users, nginx's consistent hash at weights 1:2:2: within 5 points of 20%.
    expect(canaryShare).toBeGreaterThan(0.15);
    expect(canaryShare).toBeLessThan(0.25);
    const again = await Promise.all(users.slice(0, 300).map((u) => recommend(base, u)));
    // nginx moves a user when its replica times out (700 ms) and marks that replica down for 10 s
    // after two failures, as it should; on a loaded CI machine that happens to a few. A config that
    // were not sticky would move about half of them.
    const moved = again.filter((a, k) => a.release !== first.get(users[k]!)).length;
    expect(moved).toBeLessThanOrEqual(15);
    // Same user written differently (leading zeros, a query) stays on that user's release.
    expect((await recommend(base, "0007?x=1")).release).toBe(first.get(7));
  }, 120_000);

  it("shows what serves: the image's commit and each replica's release as labels", async () => {
    const head = (await run("git", ["rev-parse", "HEAD"])).stdout.trim();
    const ids = (await compose("ps", "-q", "api-canary")).stdout.trim();
    const inspect = JSON.parse((await run("docker", ["inspect", ids])).stdout) as Array<{ Config: { Labels: Record<string, string>; Env: string[] }; State: { Health?: { Status: string } } }>;
    const labels = inspect[0]!.Config.Labels;
    expect(labels["org.recsys.release"]).toBe("canary");
    expect(labels["org.opencontainers.image.revision"]).toBe(head);
    expect(inspect[0]!.Config.Env).toContain(`RECSYS_GIT_COMMIT=${head}`);
    expect(inspect[0]!.State.Health?.Status).toBe("healthy");
    const csv = await compose("exec", "-T", "api-canary", "ls", "/logs/api-canary");
    expect(csv.stdout).toMatch(/responses-\d{8}.*\.csv/);
  }, 60_000);

  it("never starts the APIs when the trainer's model fails the gate", async () => {
    const failing = `${project}-gate`;
    const failEnv = { ...env, RECSYS_GATE_RMSE: "0.1" };
    const up = await run("docker-compose", ["-p", failing, "-f", "docker/compose.yaml", "up", "-d"], { env: failEnv, timeoutMs: 300_000 });
    try {
      expect(up.code).not.toBe(0);
      // compose 1.29 names the trainer's exit code (3: gate failed); v2 says "didn't complete successfully: exit 3".
      expect(up.stderr).toMatch(/exited with code 3|didn't complete successfully: exit 3/);
      const trainerLog = await run("docker-compose", ["-p", failing, "-f", "docker/compose.yaml", "logs", "--no-color", "trainer"], { env: failEnv });
      expect(trainerLog.stdout).toMatch(/gate/i);
      const apis = await run("docker-compose", ["-p", failing, "-f", "docker/compose.yaml", "ps", "-q", "api-canary"], { env: failEnv });
      expect(apis.stdout.trim()).toBe("");
    } finally {
      await run("docker-compose", ["-p", failing, "-f", "docker/compose.yaml", "down", "-v", "--remove-orphans", "-t", "5"], { env: failEnv });
    }
  }, 300_000);
});
