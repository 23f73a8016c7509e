import { request, type Agent } from "node:http";

/** Why a try at an upstream failed. `connect` (refused) means the process is gone; `mismatch`: it answered for another user. */
export type FailureKind = "connect" | "timeout" | "reset" | "status" | "mismatch";

/** One upstream's health, shared by active checks and passive ejection. */
export interface Upstream {
  readonly url: string;
  /** Pre-parsed host and port for the health checks. */
  readonly target: { hostname: string; port: string };
  healthy: boolean;
  /** Consecutive failed tries since the last success. */
  failures: number;
  lastError: string;
  checking: boolean;
  /** Consecutive failed active checks. */
  checkFailures: number;
}

export function createUpstream(url: string): Upstream {
  const u = new URL(url);
  return {
    url,
    target: { hostname: u.hostname, port: u.port || "80" },
    // Optimistic until the first check: a fresh router must not answer from the fallback list.
    healthy: true,
    failures: 0,
    lastError: "",
    checking: false,
    checkFailures: 0,
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
  /** Failed checks in a row that mark an upstream down (a refused connect counts at once). */
  unhealthyAfter: number;
  agent: Agent;
}

/**
 * Active checks: GET `<upstream><path>` (default /readyz) for every upstream every interval,
 * one check in flight per upstream. A 200 marks it healthy; a refused connect marks it down at
 * once, other failures (status, no answer within timeoutMs) after `unhealthyAfter` in a row, so
 * one slow check on a busy machine does not take a working replica out. Returns a stop
 * function; the first round starts at once.
 *
 *     const stop = startHealthChecks(() => pool, { path: "/readyz", intervalMs: 1000, timeoutMs: 300, unhealthyAfter: 2, agent });
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
  const settle = (ok: boolean, why: string, gone = false) => {
    if (!up.checking) return;
    up.checking = false;
    if (ok) {
      up.healthy = true;
      up.failures = 0;
      up.checkFailures = 0;
      return;
    }
    up.lastError = `health: ${why}`;
    if (gone || ++up.checkFailures >= opts.unhealthyAfter) up.healthy = false;
  };
  const req = request({ ...up.target, path: opts.path, method: "GET", agent: opts.agent, timeout: opts.timeoutMs }, (res) => {
    res.resume();
    res.on("end", () => settle(res.statusCode === 200, `status ${res.statusCode}`));
    res.on("error", (err) => settle(false, err.message));
  });
  req.on("timeout", () => { settle(false, `no answer in ${opts.timeoutMs} ms`); req.destroy(); });
  req.on("error", (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    settle(false, code ?? err.message, code === "ECONNREFUSED");
  });
  req.end();
}
