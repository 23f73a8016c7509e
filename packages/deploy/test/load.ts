import { Agent, request } from "node:http";

export interface LoadResult {
  sent: number;
  ok: number;
  /** Every non-200 answer or transport error, as `status: detail`. */
  failures: string[];
  byRelease: Record<string, number>;
  /** Requests sent a second time because the kept-alive connection they went out on was closed under them. */
  retried: number;
}

export interface LoadOptions {
  /**
   * Retry a request once, on a fresh connection, when the kept-alive connection it was sent on is
   * closed before any answer (RFC 9110 9.2.2 allows it for a GET; Go's http.Transport, curl and
   * browsers do it; Node's bare http.Agent does not). nginx's reload closes its old workers' idle
   * connections, and a request racing that close is lost without it.
   */
  retryReusedConnection?: boolean;
}

/**
 * Steady load through a URL: `rate` GET /recommend/<user> per second (users 1..users+10, so a
 * few are unknown to the model), each with the site's 800 ms timeout. `stop()` waits for the
 * requests still in flight and returns the tally.
 */
export function steadyLoad(baseUrl: string, rate: number, users: number, options: LoadOptions = {}): { stop: () => Promise<LoadResult> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const result: LoadResult = { sent: 0, ok: 0, failures: [], byRelease: {}, retried: 0 };
  const inFlight = new Set<Promise<void>>();
  let n = 0;
  const fire = () => {
    const user = 1 + ((n++ * 7919) % (users + 10));
    result.sent++;
    const p = new Promise<void>((resolve) => send(user, true, resolve));
    inFlight.add(p);
    p.then(() => inFlight.delete(p));
  };
  const send = (user: number, firstTry: boolean, resolve: () => void) => {
    const req = request(`${baseUrl}/recommend/${user}`, { agent: firstTry ? agent : false, timeout: 800 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => {
        const release = String(res.headers["x-release"] ?? "?");
        result.byRelease[release] = (result.byRelease[release] ?? 0) + 1;
        if (res.statusCode === 200 && body.length > 0) result.ok++;
        else result.failures.push(`${res.statusCode}: ${body.slice(0, 80)}`);
        resolve();
      });
    });
    const t0 = Date.now();
    let timedOut = false;
    req.on("timeout", () => { timedOut = true; req.destroy(new Error("timeout 800 ms")); });
    req.on("error", (err) => {
      if (options.retryReusedConnection && firstTry && req.reusedSocket && !timedOut) {
        result.retried++;
        return send(user, false, resolve);
      }
      result.failures.push(`0: ${err.message} (user ${user}, sent ${new Date(t0).toISOString()})`);
      resolve();
    });
    req.end();
  };
  const timer = setInterval(fire, 1000 / rate);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      agent.destroy();
      return result;
    },
  };
}
