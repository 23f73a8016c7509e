import { createRng, type LineLog } from "@recsys/core";
import { quantileSorted } from "@recsys/canary";
import { respondToRecommendations, sampleActiveUser, type World } from "@recsys/simulator";

export interface TrafficOptions {
  routerUrl: string;
  world: World;
  /** Target request rate (requests per second). */
  rps: number;
  /** At most this many requests in flight (a slow service cannot pile up callers). */
  concurrency: number;
  /** Where the users' answers go: watch and rate lines in the stream's format. */
  eventLog: Pick<LineLog, "write">;
  seed: number;
  /** The caller's budget, as the site's caller gives up (the brief: 800 ms). */
  timeoutMs?: number;
}

export interface TrafficStats {
  sent: number;
  ok: number;
  failed: number;
  /** Over the last `windowMs`: requests per second, p99 latency (ms) and success share. */
  rps: number;
  p99Ms: number | null;
  successRate: number | null;
}

export interface Traffic {
  stats(windowMs?: number): TrafficStats;
  stop(): Promise<void>;
}

const RING = 8192;

/**
 * Live users on the site: picks active users by the simulator's activity model, asks the router
 * for their recommendations within the caller's budget, and lets each user answer by the
 * simulator's choice model, appending the resulting watch and rate lines to `eventLog`. This
 * closes the loop: what the service recommends becomes the data the next model trains on.
 *
 *     const traffic = startTraffic({ routerUrl, world, rps: 40, concurrency: 16, eventLog, seed: 1 });
 */
export function startTraffic(opts: TrafficOptions): Traffic {
  const rng = createRng(opts.seed).fork("live-traffic");
  const timeoutMs = opts.timeoutMs ?? 800;
  // Ring of (finish time, latency, ok) for the windowed figures, without per-request objects.
  const doneAt = new Float64Array(RING), latency = new Float64Array(RING), good = new Uint8Array(RING);
  let sent = 0, ok = 0, failed = 0, finished = 0, inFlight = 0, credit = 0;
  const pending = new Set<Promise<void>>();

  const one = async (): Promise<void> => {
    const userId = sampleActiveUser(opts.world, rng);
    const started = performance.now();
    let success = false;
    try {
      const res = await fetch(`${opts.routerUrl}/recommend/${userId}`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = await res.text();
      success = res.status === 200;
      if (success) {
        const answer = respondToRecommendations(opts.world, userId, body.trim().split(","), Date.now(), rng);
        for (const line of answer.lines) opts.eventLog.write(line);
      }
    } catch {
      success = false;
    }
    const slot = finished++ % RING;
    doneAt[slot] = Date.now();
    latency[slot] = performance.now() - started;
    good[slot] = success ? 1 : 0;
    if (success) ok++; else failed++;
  };

  const tickMs = 20;
  const timer = setInterval(() => {
    credit = Math.min(credit + (opts.rps * tickMs) / 1000, opts.concurrency);
    while (credit >= 1 && inFlight < opts.concurrency) {
      credit -= 1;
      sent++;
      inFlight++;
      const p = one().finally(() => { inFlight--; pending.delete(p); });
      pending.add(p);
    }
  }, tickMs);

  return {
    stats(windowMs = 10_000) {
      const since = Date.now() - windowMs;
      const recent: number[] = [];
      let successes = 0;
      for (let i = 0; i < Math.min(finished, RING); i++) {
        if (doneAt[i]! < since) continue;
        recent.push(latency[i]!);
        successes += good[i]!;
      }
      recent.sort((a, b) => a - b);
      const n = recent.length;
      return {
        sent, ok, failed,
        rps: n / (windowMs / 1000),
        p99Ms: n ? quantileSorted(recent, 0.99) : null,
        successRate: n ? successes / n : null,
      };
    },
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
  };
}
