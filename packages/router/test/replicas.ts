import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiServer, resolveApiConfig, writeSyntheticRecModel, type ApiServer } from "@recsys/api";
import { assignRelease, createRouter, type Release, type Router, type RouterConfigInput } from "@recsys/router";
import { checkStream, isAllowedUpstreamHead, startHostileUpstream, startRecordingProxy, type FuzzStream, type HostileUpstream, type StreamTarget } from "./hostile.ts";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = join(ROOT, "packages/cli/src/main.ts");

/** Known users of the synthetic model are the even ids below 2 * MODEL_USERS; each has its own list. */
export const MODEL_USERS = 500;
export const knownUser = (i: number): string => String(2 * (i % MODEL_USERS));

export interface Replicas {
  urls: string[];
  /** The model directory every replica serves (for child replicas started later). */
  modelDir: string;
  /** A user's answer, asked of replica 0 directly (so the router is not involved); cached. */
  expected(user: string): Promise<string>;
  /** Starts one more replica of the same model as a child process (`recsys serve`), to kill. */
  spawnChild(): Promise<ChildReplica>;
  close(): Promise<void>;
}

export interface ChildReplica { url: string; child: ChildProcess; kill(): Promise<void> }

/**
 * Starts `n` real API replicas of one synthetic model in this process, on 127.0.0.1 ephemeral
 * ports, so every replica gives the same answer for a user. Close them in afterAll.
 */
export async function startReplicas(n: number): Promise<Replicas> {
  const dir = await mkdtemp(join(tmpdir(), "router-replicas-"));
  const modelDir = join(dir, "model");
  await writeSyntheticRecModel(modelDir, { users: MODEL_USERS, movies: 400, factors: 8, seed: 16 });
  const apis: ApiServer[] = [];
  const children: ChildReplica[] = [];
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const api = createApiServer(resolveApiConfig({ modelDir, port: 0, logDir: join(dir, `log-${i}`), release: `r${i}` }, {}, () => "test"), { report: () => {} });
    apis.push(api);
    urls.push((await api.listen()).url);
  }
  const cache = new Map<string, string>();
  return {
    urls,
    modelDir,
    async expected(user) {
      let body = cache.get(user);
      if (body === undefined) {
        const res = await fetch(`${urls[0]}/recommend/${user}`);
        if (res.status !== 200) throw new Error(`replica answered ${res.status} for user ${user}`);
        body = await res.text();
        cache.set(user, body);
      }
      return body;
    },
    async spawnChild() {
      const child = await spawnApiChild(modelDir, join(dir, `log-child-${children.length}`));
      children.push(child);
      return child;
    },
    async close() {
      await Promise.all(children.map((c) => c.kill()));
      await Promise.all(apis.map((a) => a.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `recsys serve` for `modelDir` as a child (tsx), resolving once it prints its URL. */
async function spawnApiChild(modelDir: string, logDir: string): Promise<ChildReplica> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "serve", "--model", modelDir, "--port", "0", "--log-dir", logDir, "--release", "child"], {
    cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, RECSYS_GIT_COMMIT: "test" },
  });
  const exited = once(child, "exit");
  const url = await firstMatch(child, /serving (\S+)/);
  return {
    url,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * Resolves with the first capture of `pattern` in a child's stdout; rejects (and kills the child)
 * if it exits first or nothing matches within `timeoutMs`.
 */
export function firstMatch(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const fail = (why: string) => { clearTimeout(timer); child.kill("SIGKILL"); reject(new Error(`${why}; stdout: ${out}`)); };
    const timer = setTimeout(() => fail(`child did not start in ${timeoutMs / 1000} s`), timeoutMs);
    const onExit = (code: number | null) => fail(`child exited (${code}) before it was ready`);
    child.once("exit", onExit);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      resolve(m[1]!);
    });
  });
}

export const ADMIN_TOKEN = "safety-token-0123456789";

/**
 * Loopback, ephemeral ports, fast health checks, and budgets far above the 800 ms default: the
 * tests share two cores with replicas and other suites, and a slow turn must not turn into a
 * fallback answer where correctness, not speed, is under test.
 */
export const TEST_ROUTER_CONFIG = {
  port: 0, host: "127.0.0.1", adminToken: ADMIN_TOKEN, admin: { port: 0 },
  healthCheck: { intervalMs: 200, timeoutMs: 1000 }, budgetMs: 5000, attemptTimeoutMs: 2000,
} satisfies Partial<RouterConfigInput>;

export interface TestRouter { router: Router; url: string; port: number; adminUrl: string }

/**
 * A router on ephemeral loopback ports (public and admin) with fast health checks; `extra`
 * overrides any config key. Close it with `router.close()`.
 */
export async function startTestRouter(releases: RouterConfigInput["releases"], extra: Partial<RouterConfigInput> = {}): Promise<TestRouter> {
  const router = createRouter({ ...TEST_ROUTER_CONFIG, releases, ...extra }, { onError: () => {} });
  const { url, port, adminUrl } = await router.listen();
  return { router, url, port, adminUrl };
}

/** Half the users to each release: a user routed by a wrong spelling of the id lands elsewhere half the time. */
export const splitReleases = (urls: readonly string[]): Release[] => [
  { id: "v1", role: "stable", upstreams: [urls[0]!, urls[1]!], weight: 50 },
  { id: "v2", role: "canary", upstreams: [urls[2]!], weight: 50 },
];

export interface ClientRig extends StreamTarget {
  router: Router;
  /** Request heads that reached the replicas so far (recorded by pass-through proxies). */
  upstreamHeads(): string[];
  close(): Promise<void>;
}

/** Three real replicas behind recording proxies, under a router split 50/50 over two releases. */
export async function startClientRig(): Promise<ClientRig> {
  const replicas = await startReplicas(3);
  const proxies = await Promise.all(replicas.urls.map((u) => startRecordingProxy(Number(new URL(u).port))));
  const releases = splitReleases(proxies.map((p) => p.url));
  const { router, port } = await startTestRouter(releases);
  return {
    router, port,
    releaseOf: (user) => assignRelease(releases, user).id,
    expected: (user) => replicas.expected(user),
    upstreamHeads: () => proxies.flatMap((p) => p.heads()),
    async close() {
      await router.close();
      await Promise.all(proxies.map((p) => p.close()));
      await replicas.close();
    },
  };
}

export interface LieRig { router: Router; url: string; upstreams: HostileUpstream[]; close(): Promise<void> }

/**
 * Two hostile upstreams in one release under a router that never ejects them (so every script
 * meets the lies) and retries within a short budget.
 */
export async function startLieRig(): Promise<LieRig> {
  const upstreams = [await startHostileUpstream(), await startHostileUpstream()];
  const { router, url } = await startTestRouter([{ id: "v1", role: "stable", upstreams: upstreams.map((u) => u.url), weight: 100 }], {
    ejectAfter: 1000, attemptTimeoutMs: 300, budgetMs: 2000,
  });
  return {
    router, url, upstreams,
    async close() {
      await router.close();
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}

/**
 * One fuzz run on the client side: the streams go out on parallel connections (so one client's
 * answer could leak into another's), then every head that reached a replica must be allow-listed
 * and canonical, and the router must still answer /healthz. Returns every broken rule.
 */
export async function checkClientRun(rig: ClientRig, streams: readonly FuzzStream[]): Promise<string[]> {
  const seen = rig.upstreamHeads().length;
  const problems = (await Promise.all(streams.map((s) => checkStream(rig, s)))).flat();
  for (const head of rig.upstreamHeads().slice(seen)) if (!isAllowedUpstreamHead(head)) problems.push(`reached an upstream: ${JSON.stringify(head.slice(0, 80))}`);
  const health = await fetch(`http://127.0.0.1:${rig.port}/healthz`).then((r) => r.status, (e: Error) => e.message);
  if (health !== 200) problems.push(`/healthz afterwards: ${health}`);
  return problems;
}
