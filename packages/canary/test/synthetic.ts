import { createRng } from "@recsys/core";
import type { RequestRecord, WatchRecord } from "../src/index.ts";

export interface SyntheticRelease {
  id: string;
  share: number;
  errorRate?: number;
  medianMs?: number;
  /** Share of requests that take `slowMs`. */
  slowShare?: number;
  slowMs?: number;
  followProb?: number;
}

export interface SyntheticTraffic {
  requests: RequestRecord[];
  watches: WatchRecord[];
  startMs: number;
  endMs: number;
}

export const T0 = Date.parse("2022-02-08T12:00:00Z");

/**
 * Seeded traffic for tests and the bench: `n` requests spread evenly over `spanMs`, releases
 * by share, follows within 5 minutes with each release's probability, plus unrelated watches.
 */
export function syntheticTraffic(releases: SyntheticRelease[], n: number, seed = 7, spanMs = 3_600_000): SyntheticTraffic {
  const rng = createRng(seed);
  const requests: RequestRecord[] = [];
  const watches: WatchRecord[] = [];
  const total = releases.reduce((s, r) => s + r.share, 0);
  for (let i = 0; i < n; i++) {
    const timeMs = T0 + Math.floor((i * spanMs) / n);
    const userId = rng.int(5000);
    let pick = rng.next() * total;
    const rel = releases.find((r) => (pick -= r.share) < 0) ?? releases.at(-1)!;
    const failed = rng.next() < (rel.errorRate ?? 0);
    const slow = rng.next() < (rel.slowShare ?? 0);
    const latencyMs = failed ? 800 : slow ? rel.slowMs ?? 900 : Math.round((rel.medianMs ?? 60) * Math.exp(0.3 * rng.normal()));
    const movieIds = failed ? [] : Array.from({ length: 20 }, () => `m${rng.int(2000)}`);
    requests.push({ timeMs, userId, release: rel.id, status: failed ? 0 : 200, latencyMs, movieIds });
    if (!failed && rng.next() < (rel.followProb ?? 0.2)) watches.push({ timeMs: timeMs + rng.int(300_000), userId, movieId: movieIds[rng.int(3)]! });
    if (rng.next() < 0.3) watches.push({ timeMs: timeMs + rng.int(600_000), userId, movieId: `other${rng.int(100)}` });
  }
  // Watches run to 20 minutes past the last request, so every follow window is observed.
  return { requests, watches, startMs: T0, endMs: T0 + spanMs };
}
