import { isSuccess, type RequestRecord } from "./records.ts";
import { quantileSorted, wilsonInterval } from "./stats.ts";
import { isFollowed, type WatchIndex } from "./follow.ts";

/** One release's (or the pooled stable arm's) figures over the window. Null = no data. */
export interface ReleaseStats {
  requests: number;
  successes: number;
  successRate: number | null;
  /** Latency quantiles over all responses, failures included (a timeout is slow, too). */
  p50: number | null;
  p99: number | null;
  /** Status-200 non-empty recommendations whose follow window had fully passed by `asOfMs`. */
  followEligible: number;
  follows: number;
  followRate: number | null;
  /** Wilson 95 % interval of followRate. */
  followCi: [number, number] | null;
}

export interface FollowOptions {
  index: WatchIndex;
  followWindowMs: number;
  /** Watches are known up to here; later requests could still be followed, so they are not scored. */
  asOfMs: number;
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Latency quantiles of a group of requests (sorted once in a typed array). */
export function latencyQuantiles(requests: readonly RequestRecord[]): { p50: number | null; p99: number | null } {
  const latencies = Float64Array.from(requests, (r) => r.latencyMs).sort();
  return { p50: orNull(quantileSorted(latencies, 0.5)), p99: orNull(quantileSorted(latencies, 0.99)) };
}

/** Whether a request counts for the follow rate: a non-empty 200 answer whose follow window had passed by asOfMs. */
export function isScored(r: RequestRecord, follow: FollowOptions): boolean {
  return r.status === 200 && r.movieIds.length > 0 && r.timeMs + follow.followWindowMs <= follow.asOfMs;
}

/** Availability, latency and follow figures of one group of requests. */
export function releaseStats(requests: readonly RequestRecord[], follow: FollowOptions): ReleaseStats {
  let successes = 0;
  let followEligible = 0;
  let follows = 0;
  for (const r of requests) {
    if (!isSuccess(r.status)) continue;
    successes++;
    if (!isScored(r, follow)) continue;
    followEligible++;
    if (isFollowed(follow.index, r, follow.followWindowMs)) follows++;
  }
  return withRates(requests, successes, followEligible, follows);
}

function withRates(requests: readonly RequestRecord[], successes: number, followEligible: number, follows: number): ReleaseStats {
  const n = requests.length;
  return {
    requests: n,
    successes,
    successRate: n ? successes / n : null,
    ...latencyQuantiles(requests),
    followEligible,
    follows,
    followRate: followEligible ? follows / followEligible : null,
    followCi: wilsonInterval(follows, followEligible),
  };
}

/** Pools several releases into one arm: counts add up, latency quantiles come from all requests. */
export function poolStats(groups: readonly (readonly RequestRecord[])[], parts: readonly ReleaseStats[]): ReleaseStats {
  const sum = (pick: (s: ReleaseStats) => number) => parts.reduce((acc, s) => acc + pick(s), 0);
  return withRates(groups.flat(), sum((s) => s.successes), sum((s) => s.followEligible), sum((s) => s.follows));
}
