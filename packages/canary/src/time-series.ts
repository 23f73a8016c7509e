import { isSuccess, type RequestRecord } from "./records.ts";
import { latencyQuantiles } from "./release-stats.ts";

/** Column-oriented series (compact in JSON): index i of every array is bucket i. */
export interface TimeSeries {
  bucketMs: number;
  bucketStartsMs: number[];
  perRelease: Record<string, { requests: number[]; successRate: (number | null)[]; p99: (number | null)[] }>;
}

const NICE_MS = [1, 5, 10, 15, 30].map((s) => s * 1000)
  .concat([1, 2, 5, 10, 15, 30].map((m) => m * 60_000))
  .concat([1, 2, 3, 6, 12, 24].map((h) => h * 3_600_000));

/** The smallest readable bucket size (1 s ... 1 d) that cuts `spanMs` into at most `buckets` pieces. */
export function niceBucketMs(spanMs: number, buckets: number): number {
  const raw = spanMs / buckets;
  return NICE_MS.find((b) => b >= raw) ?? Math.ceil(raw / 86_400_000) * 86_400_000;
}

/**
 * Success rate and p99 per release per time bucket. Buckets are aligned to multiples of the
 * bucket size, so charts of overlapping windows line up.
 */
export function buildTimeSeries(
  byRelease: ReadonlyMap<string, readonly RequestRecord[]>,
  startMs: number,
  endMs: number,
  buckets: number,
): TimeSeries {
  const bucketMs = niceBucketMs(Math.max(1, endMs - startMs), buckets);
  const first = Math.floor(startMs / bucketMs) * bucketMs;
  const count = Math.max(1, Math.ceil((endMs - first) / bucketMs));
  const bucketStartsMs = Array.from({ length: count }, (_, i) => first + i * bucketMs);
  const perRelease: TimeSeries["perRelease"] = {};
  for (const [release, requests] of byRelease) {
    const slots: RequestRecord[][] = Array.from({ length: count }, () => []);
    for (const r of requests) slots[Math.min(count - 1, Math.floor((r.timeMs - first) / bucketMs))]!.push(r);
    perRelease[release] = {
      requests: slots.map((s) => s.length),
      successRate: slots.map((s) => (s.length ? s.filter((r) => isSuccess(r.status)).length / s.length : null)),
      p99: slots.map((s) => latencyQuantiles(s).p99),
    };
  }
  return { bucketMs, bucketStartsMs, perRelease };
}
