import { REJECT_REASONS, type RejectReason } from "./errors.ts";
import type { RejectShare } from "./reject-share.ts";

/** min / median / p90 / max / mean of a set of values; null when there are none. */
export interface Distribution { count: number; min: number; p50: number; p90: number; max: number; mean: number }

export interface IdQuality {
  /** Distinct ids in the output file. */
  total: number;
  /** Distinct ids seen in accepted events (or ratings, for MovieLens). */
  inEvents: number;
  /** Ids in the output that carry side information (demographics, titles...). */
  withSideInfo: number;
  /** Event ids missing from the side file; null when no side file was given. */
  unknown: { ids: number; lines: number } | null;
}

/** quality.json: what came in, what was kept, what was rejected and why (documented in README). */
export interface QualityReport {
  schemaVersion: 1;
  source: string;
  lines: { total: number; accepted: number; rejected: number; blank: number };
  /** rejected / (accepted + rejected), the share above which ingest warns, and the one above which it refuses. */
  rejectShare: RejectShare;
  kinds: { watch: number; rate: number; request: number; telemetry: number };
  /** Every reject code, zero or not, so reports line up across runs. */
  rejects: Record<RejectReason, number>;
  duplicates: { lines: number; window: number };
  /** Accepted lines whose time is earlier than a time already seen in the same input (clock skew); kept. */
  outOfOrder: { lines: number; maxSkewMs: number };
  ratings: { events: number; kept: number; superseded: number; values: Record<string, number>; perUser: Distribution | null; perMovie: Distribution | null };
  watches: { events: number; pairs: number; distinctMinutes: number; repeatedMinutes: number; minutesPerPair: Distribution | null };
  requests: { rows: number; fromStream: number; fromTelemetry: number; status: Record<string, number>; latencyMs: Distribution | null };
  users: IdQuality;
  movies: IdQuality;
  timeRange: { first: string | null; last: string | null };
}

export function emptyRejectCounts(): Record<RejectReason, number> {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Summarises values (sorted in place). */
export function distribution(values: Float64Array): Distribution | null {
  const n = values.length;
  if (n === 0) return null;
  values.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const at = (q: number) => values[Math.min(n - 1, Math.floor(q * n))]!;
  return { count: n, min: values[0]!, p50: at(0.5), p90: at(0.9), max: values[n - 1]!, mean: round(sum / n) };
}

/** Counts per key of `keys` (user ids, movie indexes) as a distribution over distinct keys. */
export function perKeyDistribution(keys: Uint32Array, count: number): Distribution | null {
  const counts = new Map<number, number>();
  for (let i = 0; i < count; i++) counts.set(keys[i]!, (counts.get(keys[i]!) ?? 0) + 1);
  return distribution(Float64Array.from(counts.values()));
}

/**
 * Request latencies at 1 ms resolution in a fixed histogram (anything past a minute is counted
 * as a minute): memory stays fixed however many requests the stream holds.
 */
export class LatencyHistogram {
  private readonly buckets = new Uint32Array(60_001);
  private count = 0;
  private sum = 0;

  add(ms: number): void {
    this.buckets[Math.min(60_000, Math.round(ms))]!++;
    this.count++;
    this.sum += ms;
  }

  summary(): Distribution | null {
    if (this.count === 0) return null;
    const at = (q: number) => {
      const target = Math.min(this.count - 1, Math.floor(q * this.count));
      let seen = 0;
      for (let ms = 0; ms < this.buckets.length; ms++) {
        seen += this.buckets[ms]!;
        if (seen > target) return ms;
      }
      return 60_000;
    };
    return { count: this.count, min: at(0), p50: at(0.5), p90: at(0.9), max: at(1), mean: round(this.sum / this.count) };
  }
}

function pct(share: number): string {
  return `${Math.round(share * 10_000) / 100}%`;
}

function dist(d: Distribution | null): string {
  return d ? `min ${d.min}, median ${d.p50}, p90 ${d.p90}, max ${d.max}, mean ${d.mean}` : "none";
}

function ids(label: string, q: IdQuality): string {
  const unknown = q.unknown ? `; unknown to the side file: ${q.unknown.ids} ids on ${q.unknown.lines} lines` : "; no side file";
  return `${label}: ${q.total} (${q.inEvents} in events, ${q.withSideInfo} with side info${unknown})`;
}

/**
 * The readable summary written to quality.txt and printed by `recsys ingest`.
 *
 *     console.log(formatQualitySummary(summary.quality));
 */
export function formatQualitySummary(q: QualityReport): string {
  const reasons = REJECT_REASONS.filter((r) => q.rejects[r] > 0).map((r) => `${r} ${q.rejects[r]}`);
  const statuses = Object.entries(q.requests.status).map(([s, n]) => `${s}: ${n}`);
  const values = Object.entries(q.ratings.values).map(([v, n]) => `${v}: ${n}`);
  return [
    `data quality (${q.source})`,
    `lines: ${q.lines.total} read, ${q.lines.accepted} accepted, ${q.lines.rejected} rejected, ${q.lines.blank} blank`,
    `rejected share: ${pct(q.rejectShare.value)} (warn above ${pct(q.rejectShare.warnAbove)}, refuse above ${pct(q.rejectShare.failAbove)})`,
    `kinds: ${q.kinds.watch} watch, ${q.kinds.rate} rate, ${q.kinds.request} request, ${q.kinds.telemetry} telemetry`,
    `rejects: ${reasons.length ? reasons.join(", ") : "none"}`,
    `duplicates: ${q.duplicates.lines} (window of ${q.duplicates.window} lines)`,
    `out of order (kept): ${q.outOfOrder.lines}, max skew ${q.outOfOrder.maxSkewMs} ms`,
    `ratings: ${q.ratings.kept} kept of ${q.ratings.events} events (${q.ratings.superseded} superseded); values ${values.join(", ") || "none"}`,
    `ratings per user: ${dist(q.ratings.perUser)}`,
    `ratings per movie: ${dist(q.ratings.perMovie)}`,
    `watches: ${q.watches.pairs} user-movie pairs, ${q.watches.distinctMinutes} distinct minutes (${q.watches.repeatedMinutes} repeated)`,
    `minutes per pair: ${dist(q.watches.minutesPerPair)}`,
    `requests: ${q.requests.rows} (${q.requests.fromStream} stream, ${q.requests.fromTelemetry} telemetry); status ${statuses.join(", ") || "none"}`,
    `latency ms: ${dist(q.requests.latencyMs)}`,
    ids("users", q.users),
    ids("movies", q.movies),
    `time range: ${q.timeRange.first ?? "-"} .. ${q.timeRange.last ?? "-"}`,
    "",
  ].join("\n");
}
