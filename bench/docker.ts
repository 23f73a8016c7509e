/**
 * The Docker path's figures, one run, on this machine's engine (host networking, loopback only):
 *
 * 1. `docker-compose up -d` (docker/compose.yaml: trainer, three replicas, nginx, Prometheus) to
 *    the first 200 through nginx, the trainer's simulate + ingest + train included.
 * 2. The request rate nginx holds against the project's router (`recsys route`, one process) in
 *    front of the same three replica containers at 20/40/40: closed loop (autocannon), in
 *    alternating order over several rounds, medians compared.
 * 3. A promote and a rollback with `recsys deploy --driver docker --front nginx` (a platform from
 *    `initDockerPlatform`, test models) under a steady load: deploy time, the time from the
 *    verdict to the end (promote: both stable containers replaced; rollback: canary out and
 *    removed), failed requests, and requests the client sent again because nginx's reload closed
 *    the kept-alive connection under them (as Go's http.Transport and browsers do).
 *
 * Needs the images (docker/build-image.sh --offline, docker/make-base-image.sh nginx and
 * prometheus). Figures only, no assertions; noisy on a shared 2-core machine with vfs storage.
 *
 *     npx tsx bench/docker.ts                 # 8 s per phase, 16 connections, 3 rounds, 20 req/s during deploys
 *     npx tsx bench/docker.ts --seconds 5 --rounds 5 --rate 40
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort, initDockerPlatform, readReleases, stopDockerPlatform } from "@recsys/deploy";
import { writeSyntheticRecModel } from "@recsys/api";
import { steadyLoad } from "../packages/deploy/test/load.ts";
import { Children, ROOT, inRounds, measurePeak, median, peakRow, type Measured } from "./lib/harness.ts";

const { values: args } = parseArgs({ options: {
  seconds: { type: "string", default: "8" }, connections: { type: "string", default: "16" }, rounds: { type: "string", default: "3" },
  rate: { type: "string", default: "20" },
} });
const SECONDS = Number(args.seconds), CONNECTIONS = Number(args.connections), ROUNDS = Math.max(1, Number(args.rounds)), RATE = Number(args.rate);

function sh(cmd: string, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 600_000, maxBuffer: 64 << 20 },
    (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr })));
}

for (const kind of ["nginx", "prometheus"]) {
  if ((await sh("docker", ["image", "inspect", `recsys-${kind}:offline`])).code !== 0) await sh("docker/make-base-image.sh", [kind]);
}
if ((await sh("docker", ["image", "inspect", "recsys:latest"])).code !== 0) throw new Error("no recsys:latest image: run docker/build-image.sh --offline first");
console.log(`bench/docker: ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}; ${SECONDS} s per phase, ${CONNECTIONS} connections, ${ROUNDS} rounds; deploys under ${RATE} req/s`);

const dir = await mkdtemp(join(tmpdir(), "bench-docker-"));
const children = new Children();
const project = `recsys-bench-${process.pid}`;
const [nginxPort, canary, stable1, stable2, prom] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
const composeEnv = {
  RECSYS_NGINX_PORT: String(nginxPort), RECSYS_CANARY_PORT: String(canary), RECSYS_STABLE1_PORT: String(stable1), RECSYS_STABLE2_PORT: String(stable2),
  RECSYS_PROMETHEUS_PORT: String(prom),
};
const compose = (...argv: string[]) => sh("docker-compose", ["-p", project, "-f", "docker/compose.yaml", ...argv], composeEnv);
let stateDir: string | null = null;
try {
  // 1. compose up to the first answer.
  const t0 = Date.now();
  const up = await compose("up", "-d");
  if (up.code !== 0) throw new Error(`docker-compose up failed: ${up.stderr.slice(-500)}`);
  const nginxUrl = `http://127.0.0.1:${nginxPort}`;
  while ((await fetch(`${nginxUrl}/recommend/1`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() - t0 > 300_000) throw new Error("no answer through nginx 300 s after docker-compose up");
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`docker-compose up -d to the first answer through nginx: ${((Date.now() - t0) / 1000).toFixed(1)} s (trainer included)`);

  // 2. nginx against the router on the same three replica containers.
  const upstream = (port: number) => `http://127.0.0.1:${port}`;
  const routerConfig = join(dir, "router.json");
  await writeFile(routerConfig, JSON.stringify({
    releases: [
      { id: "stable", role: "stable", upstreams: [upstream(stable1), upstream(stable2)], weight: 80 },
      { id: "canary", role: "canary", upstreams: [upstream(canary)], weight: 20 },
    ],
    eventLog: { path: join(dir, "router-events.log") },
    admin: { port: 0 },
  }));
  const router = await children.startRouter(routerConfig);
  const nginxPid = Number((await sh("docker", ["inspect", "-f", "{{.State.Pid}}", (await compose("ps", "-q", "nginx")).stdout.trim()])).stdout.trim());
  const fronts: Array<[string, string, number]> = [["nginx (compose, 1 worker)", nginxUrl, nginxPid], ["router (recsys route)", router.url, router.child.pid!]];
  const runs = await inRounds(fronts, ROUNDS, ([, url, pid]) => measurePeak(url, pid, CONNECTIONS, SECONDS),
    (i, round, r: Measured) => console.log(`  round ${round + 1}: ${peakRow(fronts[i]![0], r)}`));
  const medians = runs.map((r) => median(r, (m) => m.requests.average));
  fronts.forEach(([name], i) => console.log(`median  ${peakRow(name, medians[i]!)}`));
  console.log(`router / nginx peak: ${(medians[1]!.requests.average / medians[0]!.requests.average).toFixed(2)}`);
  await children.stopAll();
  await compose("down", "-v", "--remove-orphans", "-t", "5");

  // 3. promote and rollback under load through the Docker path's nginx front.
  stateDir = join(dir, "platform");
  await writeSyntheticRecModel(join(dir, "m1"), { seed: 1 });
  const state = await initDockerPlatform({ modelDir: join(dir, "m1"), stateDir, port: await freePort() });
  const canaryConfig = async (name: string, extra: object) => {
    await writeFile(join(dir, name), JSON.stringify({ minRequests: 40, minRequestsForRollback: 20, ...extra }));
    return join(dir, name);
  };
  const cases: Array<[string, number, string]> = [
    ["promote", 2, await canaryConfig("promote.json", {})],
    // A p99 limit no replica meets: the canary is rolled back once it has 20 answers.
    ["rollback", 3, await canaryConfig("rollback.json", { maxP99Ms: 0.001 })],
  ];
  for (const [name, seed, config] of cases) {
    const model = join(dir, `m${seed}`);
    await writeSyntheticRecModel(model, { seed });
    const load = steadyLoad(state.router.url, RATE, 200, { retryReusedConnection: true });
    const t = Date.now();
    const cli = await sh(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "deploy", "--model", model, "--driver", "docker", "--front", "nginx",
      "--state", stateDir, "--interval", "1", "--max-wait", "90", "--drain", "300", "--canary-config", config]);
    const took = Date.now() - t;
    const result = await load.stop();
    const record = (await readReleases(join(stateDir, "releases.jsonl"))).at(-1)!;
    const switchMs = Date.parse(record.finishedAt) - Date.parse(record.decidedAt ?? record.finishedAt);
    console.log(`${name}: exit ${cli.code}, ${record.verdict}; deploy ${(took / 1000).toFixed(1)} s, verdict to done ${(switchMs / 1000).toFixed(1)} s; ` +
      `${result.sent} requests, ${result.failures.length} failed${result.failures.length ? ` (${result.failures.slice(0, 3).join("; ")})` : ""}, ${result.retried} sent again on a fresh connection`);
  }
} finally {
  await children.stopAll();
  await compose("down", "-v", "--remove-orphans", "-t", "5");
  if (stateDir) await stopDockerPlatform(stateDir).catch((err: Error) => console.log(`!! ${err.message}`));
  await rm(dir, { recursive: true, force: true });
}
