import { request, type Agent } from "node:http";

/** Why a try at an upstream failed. `connect` (refused) means the process is gone. */
export type FailureKind = "connect" | "timeout" | "reset" | "status";

/** One upstream's health, shared by active checks and passive ejection. */
export interface Upstream {
  readonly url: string;
  /** Pre-parsed target for http-proxy, so no URL is parsed per request. */
  readonly target: { protocol: "http:"; hostname: string; host: string; port: string; path: string };
  healthy: boolean;
  /** Consecutive failed tries since the last success. */
  failures: number;
  lastError: string;
  checking: boolean;
}

export function createUpstream(url: string): Upstream {
  const u = new URL(url);
  return {
    url,
    target: { protocol: "http:", hostname: u.hostname, host: u.hostname, port: u.port || "80", path: "" },
    // Optimistic until the first check: a fresh router must not answer from the fallback list.
    healthy: true,
    failures: 0,
    lastError: "",
    checking: false,
  };
}

/**
 * Passive ejection: a refused connect takes the upstream out at once; other failures after
 * `ejectAfter` in a row. Only a passing active check brings it back.
 */
export function recordFailure(up: Upstream, kind: FailureKind, ejectAfter: number, detail: string): void {
  up.failures++;
  up.lastError = `${kind}: ${detail}`;
  if (kind === "connect" || up.failures >= ejectAfter) up.healthy = false;
}

export function recordSuccess(up: Upstream): void {
  up.failures = 0;
}

export interface HealthCheckOptions {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  agent: Agent;
}

/**
 * Active checks: GET `<upstream><path>` (default /readyz) for every upstream every interval,
 * one check in flight per upstream. 200 marks it healthy, anything else (or no answer within
 * timeoutMs) unhealthy. Returns a stop function; the first round starts at once.
 *
 *     const stop = startHealthChecks(() => pool, { path: "/readyz", intervalMs: 1000, timeoutMs: 300, agent });
 */
export function startHealthChecks(upstreams: () => Iterable<Upstream>, opts: HealthCheckOptions): () => void {
  const round = () => { for (const up of upstreams()) if (!up.checking) check(up, opts); };
  round();
  const timer = setInterval(round, opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function check(up: Upstream, opts: HealthCheckOptions): void {
  up.checking = true;
  const settle = (ok: boolean, why: string) => {
    if (!up.checking) return;
    up.checking = false;
    up.healthy = ok;
    if (ok) up.failures = 0;
    else up.lastError = `health: ${why}`;
  };
  const req = request({ ...up.target, path: opts.path, method: "GET", agent: opts.agent, timeout: opts.timeoutMs }, (res) => {
    res.resume();
    res.on("end", () => settle(res.statusCode === 200, `status ${res.statusCode}`));
    res.on("error", (err) => settle(false, err.message));
  });
  req.on("timeout", () => { settle(false, `no answer in ${opts.timeoutMs} ms`); req.destroy(); });
  req.on("error", (err) => settle(false, (err as NodeJS.ErrnoException).code ?? err.message));
  req.end();
}
