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

/** One GET through nginx: status, body, the release that answered and the replica (host:port). */
async function recommend(base: string, user: number | string): Promise<{ status: number; body: string; release: string; upstream: string }> {
  const res = await fetch(`${base}/recommend/${user}`, { signal: AbortSignal.timeout(2000) }).catch((err: Error) => err);
  if (res instanceof Error) return { status: 0, body: `${res.message} ${String(res.cause ?? "")}`, release: "", upstream: "" };
  return { status: res.status, body: (await res.text()).trim(), release: res.headers.get("x-release") ?? "", upstream: res.headers.get("x-upstream") ?? "" };
}

/** One instant query against Prometheus' HTTP API: the result vector. */
async function promQuery(base: string, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
  if (!res?.ok) return [];
  return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}

describe.skipIf(unavailable !== null)("docker-compose stack (real engine, nginx, compose 1.29)", () => {
  const project = `recsys-test-${process.pid}`;
  const env: Record<string, string> = {};
  const compose = (...args: string[]) => run("docker-compose", ["-p", project, "-f", "docker/compose.yaml", ...args], { env, timeoutMs: 300_000 });
  let base: string, prometheus: string, buildMs: number;
  const replicaPorts: Record<string, string> = {};

  beforeAll(async () => {
    buildMs = await buildRecsysImage(true);
    for (const kind of ["nginx", "prometheus"]) {
      const image = await run("docker", ["image", "inspect", `recsys-${kind}:offline`]);
      if (image.code !== 0) expect((await run("docker/make-base-image.sh", [kind])).code).toBe(0);
    }
    const [nginx, canary, stable1, stable2, prom] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    Object.assign(env, {
      RECSYS_NGINX_PORT: String(nginx), RECSYS_CANARY_PORT: String(canary), RECSYS_STABLE1_PORT: String(stable1), RECSYS_STABLE2_PORT: String(stable2),
      RECSYS_PROMETHEUS_PORT: String(prom),
    });
    Object.assign(replicaPorts, { [`127.0.0.1:${canary}`]: "api-canary", [`127.0.0.1:${stable1}`]: "api-stable-1", [`127.0.0.1:${stable2}`]: "api-stable-2" });
    base = `http://127.0.0.1:${nginx}`;
    prometheus = `http://127.0.0.1:${prom}`;
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

  it("splits 10,000 users 20/40/40 over the replicas within 1.5 points and keeps each user on one replica", async () => {
    const users = Array.from({ length: 10_000 }, (_, i) => i + 1);
    const first = new Map<number, string>();
    const unanswered: string[] = [];
    for (let i = 0; i < users.length; i += 50) {
      const batch = users.slice(i, i + 50);
      // A user whose request failed asks again (twice at most): the hash sends them to the same replica.
      const answers = await Promise.all(batch.map(async (u) => {
        let a = await recommend(base, u);
        for (let retry = 0; retry < 2 && a.status !== 200; retry++) a = await sleep(500).then(() => recommend(base, u));
        return a;
      }));
      answers.forEach((a, j) => {
        // A request a cold stack on a loaded machine does not answer in time (no answer in 2 s, or
        // nginx's 502/504 after its one retry) says nothing about the split: it is counted, a few
        // are allowed (availability under load has its own tests: nginx-front.test.ts), and the
        // user left out.
        if (a.status !== 200) return void unanswered.push(`user ${batch[j]}: ${a.status} ${a.body.slice(0, 80)}`);
        first.set(batch[j]!, replicaPorts[a.upstream] ?? a.upstream);
      });
    }
    expect(unanswered.length, unanswered.slice(0, 5).join("; ")).toBeLessThanOrEqual(20);
    const share = (service: string) => [...first.values()].filter((r) => r === service).length / first.size;
    // A failover (a replica timing out under load) moves a few users; the tolerance holds them.
    expect(Math.abs(share("api-canary") - 0.2)).toBeLessThanOrEqual(0.015);
    expect(Math.abs(share("api-stable-1") - 0.4)).toBeLessThanOrEqual(0.015);
    expect(Math.abs(share("api-stable-2") - 0.4)).toBeLessThanOrEqual(0.015);
    const again = await Promise.all(users.slice(0, 300).map((u) => recommend(base, u)));
    // nginx moves a user when its replica times out (700 ms) and marks that replica down for 10 s
    // after two failures, as it should; on a loaded CI machine that happens to a few. A config that
    // were not sticky would move about half of them.
    const moved = again.filter((a, k) => first.has(users[k]!) && (replicaPorts[a.upstream] ?? a.upstream) !== first.get(users[k]!)).length;
    expect(moved).toBeLessThanOrEqual(15);
    // Same user written differently (leading zeros, a query) stays on that user's replica.
    expect(replicaPorts[(await recommend(base, "0007?x=1")).upstream]).toBe(first.get(7));
  }, 180_000);

  it("has Prometheus scrape every replica and record success rate and p99 per release", async () => {
    const deadline = Date.now() + 90_000;
    let up: Awaited<ReturnType<typeof promQuery>> = [];
    let p99: Awaited<ReturnType<typeof promQuery>> = [];
    let success: Awaited<ReturnType<typeof promQuery>> = [];
    while (Date.now() < deadline) {
      up = await promQuery(prometheus, 'up{job="recsys-api"} == 1');
      success = await promQuery(prometheus, "release:recsys_recommend_success_rate:ratio_rate1m");
      p99 = await promQuery(prometheus, "release:recsys_recommend_latency_seconds:p99_1m");
      const finite = [...success, ...p99].every((s) => Number.isFinite(Number(s.value[1])));
      if (up.length === 3 && success.length === 2 && p99.length === 2 && finite) break;
      // Traffic to both releases in the rate window (a release without any has no rate: NaN).
      await Promise.all(Array.from({ length: 20 }, (_, k) => recommend(base, 1 + k)));
      await sleep(1000);
    }
    expect(up.map((s) => s.metric.service).sort()).toEqual(["api-canary", "api-stable-1", "api-stable-2"]);
    expect(success.map((s) => s.metric.release).sort()).toEqual(["canary", "stable"]);
    for (const s of success) expect(Number(s.value[1])).toBeGreaterThan(0.99);
    expect(p99.map((s) => s.metric.release).sort()).toEqual(["canary", "stable"]);
    for (const s of p99) expect(Number(s.value[1])).toBeGreaterThan(0);
    // Each replica's own model info came along with the scrape: which model and commit serves.
    const info = await promQuery(prometheus, "recsys_api_model_info");
    expect(new Set(info.map((s) => s.metric.service))).toEqual(new Set(["api-canary", "api-stable-1", "api-stable-2"]));
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

  it("renders the fairness report, charts included, inside the image on the trainer's model and data", async () => {
    // The image holds a bundle, not node_modules: the charts' worker must find vega in it.
    const report = await compose("run", "--rm", "--no-deps", "--entrypoint", "sh", "trainer", "-c",
      "recsys fairness report --model /models/current --data /data/dataset --out /tmp/fairness --json >/tmp/summary.json && grep -o '<svg' /tmp/fairness/report.html | wc -l");
    expect(report.code, report.stderr).toBe(0);
    expect(Number(report.stdout.trim().split("\n").at(-1))).toBeGreaterThanOrEqual(3);
  }, 180_000);

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
