import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

/**
 * A stand-in for the recommendation API, for tests and benches (here and in the deploy
 * package) before or without a trained model: `GET /recommend/:id` answers a fixed id line,
 * `/readyz`, `/healthz`, `/version` answer like the API. Latency, status and readiness are
 * settable at run time; `X-Upstream` names the stub so tests can see who answered, and
 * `X-User-Id` echoes the requested id as the API does.
 */
export interface StubUpstreamOptions {
  name?: string;
  /** The answer line's ids (default 20 fixed ones). */
  ids?: string[];
  latencyMs?: number;
  /** Status for /recommend (default 200). */
  status?: number;
  ready?: boolean;
  port?: number;
}

export interface StubUpstream {
  url: string;
  port: number;
  set(change: Pick<StubUpstreamOptions, "ids" | "latencyMs" | "status" | "ready">): void;
  /** /recommend requests served so far. */
  served(): number;
  close(): Promise<void>;
}

export const STUB_IDS = Array.from({ length: 20 }, (_, i) => `movie+${i + 1}+19${70 + i}`);

/**
 * Starts a stub in this process on 127.0.0.1.
 *
 *     const up = await startStubUpstream({ name: "a", latencyMs: 5 });
 *     await fetch(`${up.url}/recommend/1`); // 200 "movie+1+1970,..."
 */
export async function startStubUpstream(opts: StubUpstreamOptions = {}): Promise<StubUpstream> {
  const name = opts.name ?? "stub";
  let body = (opts.ids ?? STUB_IDS).join(",");
  let latencyMs = opts.latencyMs ?? 0;
  let status = opts.status ?? 200;
  let ready = opts.ready ?? true;
  let served = 0;
  const send = (res: ServerResponse, code: number, type: string, text: string, userId?: string) => {
    res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(text), "x-upstream": name, ...(userId === undefined ? {} : { "x-user-id": userId }) });
    res.end(text);
  };
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (path.startsWith("/recommend/")) {
      served++;
      // Echoes the id like the API does, so the router's check that an answer is for its user runs here too.
      const userId = path.slice("/recommend/".length).split("?", 1)[0];
      const answer = () => send(res, status, "text/plain", status === 200 ? body : `stub ${name} failing`, userId);
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    } else if (path === "/readyz") send(res, ready ? 200 : 503, "text/plain", ready ? "ready" : "not ready");
    else if (path === "/healthz") send(res, 200, "text/plain", "ok");
    else if (path === "/version") send(res, 200, "application/json", JSON.stringify({ release: name }));
    else send(res, 404, "text/plain", "not found");
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    set(change) {
      if (change.ids) body = change.ids.join(",");
      if (change.latencyMs !== undefined) latencyMs = change.latencyMs;
      if (change.status !== undefined) status = change.status;
      if (change.ready !== undefined) ready = change.ready;
    },
    served: () => served,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

export interface SpawnedStub {
  url: string;
  child: ChildProcess;
  /** Kills the process (default SIGKILL: a replica dying, not shutting down). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const MAIN = fileURLToPath(new URL("./stub-upstream-main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * Starts a stub as its own process (through tsx), for tests that kill a replica and benches
 * that must not share an event loop with what they measure. Resolves once it listens.
 *
 *     const up = await spawnStubUpstream({ name: "b" });
 *     await up.kill();
 */
export function spawnStubUpstream(opts: StubUpstreamOptions = {}): Promise<SpawnedStub> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, JSON.stringify(opts)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("stub upstream did not start in 15 s")); }, 15_000);
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`stub upstream exited (${code}) before listening`)); });
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\S+)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      resolve({
        url: m[1],
        child,
        kill: async (signal = "SIGKILL") => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}
