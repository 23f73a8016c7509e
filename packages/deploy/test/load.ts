import { Agent, request } from "node:http";

export interface LoadResult {
  sent: number;
  ok: number;
  /** Every non-200 answer or transport error, as `status: detail`. */
  failures: string[];
  byRelease: Record<string, number>;
}

/**
 * Steady load through a URL: `rate` GET /recommend/<user> per second (users 1..users+10, so a
 * few are unknown to the model), each with the site's 800 ms timeout. `stop()` waits for the
 * requests still in flight and returns the tally.
 */
export function steadyLoad(baseUrl: string, rate: number, users: number): { stop: () => Promise<LoadResult> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const result: LoadResult = { sent: 0, ok: 0, failures: [], byRelease: {} };
  const inFlight = new Set<Promise<void>>();
  let n = 0;
  const fire = () => {
    const user = 1 + ((n++ * 7919) % (users + 10));
    result.sent++;
    const p = new Promise<void>((resolve) => {
      const req = request(`${baseUrl}/recommend/${user}`, { agent, timeout: 800 }, (res) => {
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
      req.on("timeout", () => req.destroy(new Error("timeout 800 ms")));
      req.on("error", (err) => { result.failures.push(`0: ${err.message} (user ${user}, sent ${new Date(t0).toISOString()})`); resolve(); });
      req.end();
    });
    inFlight.add(p);
    p.then(() => inFlight.delete(p));
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
