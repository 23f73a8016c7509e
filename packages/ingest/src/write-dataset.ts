import { join } from "node:path";
import { readdir } from "node:fs/promises";
import {
  DATASET_FILES, DATASET_SCHEMA_VERSION, RATINGS_HEADER, WATCHES_HEADER, md5Dir, md5File, writeFileAtomic,
  type Manifest, type RatingScale,
} from "@recsys/core";
import type { IngestState } from "./ingest-state.ts";
import { LineSink } from "./line-sink.ts";
import { assertAcceptable, rejectShare } from "./reject-share.ts";
import { distribution, perKeyDistribution, type IdQuality, type QualityReport, formatQualitySummary } from "./quality.ts";

/** What one ingestion run returns: where the dataset is, its identity and its figures. */
export interface IngestSummary {
  outDir: string;
  dataHash: string;
  counts: Manifest["counts"];
  timeRange: Manifest["timeRange"];
  /** The scale every kept rating is on, as the manifest records it. */
  ratingScale: RatingScale;
  quality: QualityReport;
}

function sortedUnion<T extends number | string>(a: Iterable<T>, b: Iterable<T>): T[] {
  const all = [...new Set([...a, ...b])];
  return typeof all[0] === "number" ? (all as number[]).sort((x, y) => x - y) as T[] : all.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

function idQuality(total: number, inEvents: number, withSideInfo: number, side: unknown, unknownIds: number, unknownLines: number): IdQuality {
  return { total, inEvents, withSideInfo, unknown: side ? { ids: unknownIds, lines: unknownLines } : null };
}

function buildQuality(s: IngestState, users: number, movies: number): QualityReport {
  const { ratings: r, watches: w, options: o } = s;
  const values = new Map<number, number>();
  for (let i = 0; i < r.index.size; i++) values.set(r.values[i]!, (values.get(r.values[i]!) ?? 0) + 1);
  const rejected = Object.values(s.rejectCounts).reduce((a, b) => a + b, 0);
  const lines = { total: s.lines, accepted: s.lines - rejected - s.blank, rejected, blank: s.blank };
  let distinctMinutes = 0;
  for (let i = 0; i < w.index.size; i++) distinctMinutes += w.minutes[i]!;
  return {
    schemaVersion: 1,
    source: o.source,
    lines,
    rejectShare: rejectShare(lines, o.maxRejectShare),
    kinds: { ...s.kinds },
    rejects: { ...s.rejectCounts },
    duplicates: { lines: s.rejectCounts.duplicate, window: s.dedupWindow },
    outOfOrder: { lines: s.outOfOrder, maxSkewMs: s.maxSkewMs },
    ratings: {
      events: s.kinds.rate, kept: r.index.size, superseded: r.superseded,
      values: Object.fromEntries([...values].sort((a, b) => a[0] - b[0]).map(([v, n]) => [String(v), n])),
      perUser: perKeyDistribution(r.users, r.index.size), perMovie: perKeyDistribution(r.movies, r.index.size),
    },
    watches: {
      events: s.kinds.watch, pairs: w.index.size, distinctMinutes, repeatedMinutes: w.repeatedMinutes,
      minutesPerPair: distribution(Float64Array.from(w.minutes.subarray(0, w.index.size))),
    },
    requests: {
      rows: s.requests.lines, fromStream: s.kinds.request, fromTelemetry: s.kinds.telemetry,
      status: Object.fromEntries([...s.status].sort((a, b) => a[0] - b[0]).map(([k, n]) => [String(k), n])),
      latencyMs: s.latency.summary(),
    },
    users: idQuality(users, s.usersSeen.size, o.sideUsers?.size ?? 0, o.sideUsers, s.unknownUsers.size, s.unknownUserLines),
    movies: idQuality(movies, s.movieIds.ids.length, o.sideMovies?.size ?? 0, o.sideMovies, s.unknownMovies.size, s.unknownMovieLines),
    timeRange: s.timeRange(),
  };
}

/** md5 over the data files' md5s: the DVC directory hash of everything but the manifest. */
async function hashFiles(dir: string): Promise<{ files: Record<string, string>; dataHash: string }> {
  const names = (await readdir(dir)).sort();
  const files: Record<string, string> = {};
  for (const name of names) files[name] = await md5File(join(dir, name));
  const dataHash = (await md5Dir(dir)).md5.replace(/\.dir$/, "");
  return { files, dataHash };
}

/**
 * Writes the rest of the dataset into the run's temp directory (the caller renames it into
 * place), unless the run accepted nothing or rejected more than its limit (InputError, exit 2;
 * see reject-share.ts): ratings, watches, users, movies, quality and, last, the manifest that names every
 * other file's md5 and the ratings' scale. Every file is sorted and free of wall-clock times, so the same input
 * always yields the same bytes and the same dataHash.
 */
export async function finishDataset(s: IngestState, outDir: string, ratingScale: RatingScale): Promise<IngestSummary> {
  const dir = s.options.tmpDir;
  await s.requests.close();
  await s.rejects.close();
  const ratings = await LineSink.create(join(dir, DATASET_FILES.ratings), RATINGS_HEADER.join(","));
  await ratings.writeAll(s.ratings.rows(s.movieIds));
  await ratings.close();
  const watches = await LineSink.create(join(dir, DATASET_FILES.watches), WATCHES_HEADER.join(","));
  await watches.writeAll(s.watches.rows(s.movieIds));
  await watches.close();

  const sideUsers = s.options.sideUsers;
  const sideMovies = s.options.sideMovies;
  const userIds = sortedUnion(sideUsers?.keys() ?? [], s.usersSeen);
  const movieIds = sortedUnion(sideMovies?.keys() ?? [], s.movieIds.ids);
  const users = await LineSink.create(join(dir, DATASET_FILES.users));
  await users.writeAll(userIds.map((id) => JSON.stringify(sideUsers?.get(id) ?? { user_id: id })));
  await users.close();
  const movies = await LineSink.create(join(dir, DATASET_FILES.movies));
  await movies.writeAll(movieIds.map((id) => JSON.stringify(sideMovies?.get(id) ?? { id })));
  await movies.close();

  const quality = buildQuality(s, userIds.length, movieIds.length);
  assertAcceptable(quality, s.options.inputName);
  await writeFileAtomic(join(dir, DATASET_FILES.quality), JSON.stringify(quality, null, 2) + "\n");
  await writeFileAtomic(join(dir, DATASET_FILES.qualityText), formatQualitySummary(quality));

  const counts = {
    lines: quality.lines.total, ratings: s.ratings.index.size, watches: s.watches.index.size, users: userIds.length,
    movies: movieIds.length, requests: s.requests.lines, rejects: s.rejects.lines,
  };
  const timeRange = s.timeRange();
  const { files, dataHash } = await hashFiles(dir);
  const manifest: Manifest = { schemaVersion: DATASET_SCHEMA_VERSION, source: s.options.source, counts, timeRange, files, dataHash, ratingScale };
  await writeFileAtomic(join(dir, DATASET_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n");
  return { outDir, dataHash, counts, timeRange, ratingScale, quality };
}
