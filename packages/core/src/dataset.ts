import { z } from "zod";
import { join } from "node:path";
import { readJsonFile, parseOrThrow } from "./validate.ts";
import { readFile } from "node:fs/promises";
import { readCsvLines } from "./csv-lines.ts";
import { InputError } from "./errors.ts";
import { md5File } from "./hash.ts";

/**
 * The canonical dataset directory that ingestion writes and every later stage reads.
 * Schema version 1; the files and their columns are documented in packages/ingest/README.md.
 */
export const DATASET_SCHEMA_VERSION = 1;

export const DATASET_FILES = {
  /** user_id,movie_id,rating,time — latest explicit rating per (user, movie). */
  ratings: "ratings.csv",
  /** user_id,movie_id,minutes,max_minute,first_time,last_time — distinct minutes watched. */
  watches: "watches.csv",
  /** one User per line, every user seen in the events or the side file. */
  users: "users.jsonl",
  /** one Movie per line. */
  movies: "movies.jsonl",
  /** REQUESTS_HEADER columns — recommendation-request telemetry (stream lines and API logs). */
  requests: "requests.csv",
  manifest: "manifest.json",
  quality: "quality.json",
  qualityText: "quality.txt",
  /** line_no,reason,line — every rejected input line. */
  rejects: "rejects.csv",
} as const;

export const RATINGS_HEADER = ["user_id", "movie_id", "rating", "time"] as const;
export const WATCHES_HEADER = ["user_id", "movie_id", "minutes", "max_minute", "first_time", "last_time"] as const;
/**
 * Request telemetry in the dataset. The first six columns come from the stream's request lines;
 * the provenance columns are filled when the source is the API's own response log and empty otherwise.
 * `result` holds the returned ids joined by "|" on success, or the error text.
 */
export const REQUESTS_HEADER = [
  "time", "user_id", "server", "status", "latency_ms", "result",
  "request_id", "release", "commit", "model_hash", "data_hash", "explore_slots",
] as const;

/**
 * The API's per-response log (CSV with this header, one line per response): what served each
 * recommendation. `result` holds ids joined by "|"; `explore_slots` the 0-based exploratory
 * positions joined by "|". Ingestion reads it back into REQUESTS_HEADER rows.
 */
export const TELEMETRY_HEADER = [
  "time", "request_id", "user_id", "status", "latency_ms",
  "release", "commit", "model_hash", "data_hash", "result", "explore_slots",
] as const;

/**
 * The TELEMETRY_HEADER columns as typed fields, for the API that writes them and ingest that
 * reads them back; each side adds `time` and `userId` in its own form.
 */
export interface TelemetryFields {
  requestId: string;
  status: number;
  latencyMs: number;
  release: string;
  commit: string;
  modelHash: string;
  dataHash: string;
  /** Returned ids joined by "|" on 200, the error reason otherwise. */
  result: string;
  /** Exploratory 0-based positions joined by "|". */
  exploreSlots: string;
}

export const UserIdSchema = z.number().int().nonnegative();
export const MovieIdSchema = z.string().min(1).max(300).regex(/^[^\s,/]+$/, "movie id must be a slug without spaces, commas or slashes");

export const UserSchema = z.object({
  user_id: UserIdSchema,
  age: z.number().int().min(0).max(130).optional(),
  occupation: z.string().optional(),
  gender: z.string().optional(),
});
export type User = z.infer<typeof UserSchema>;

export const GenreSchema = z.object({ id: z.number().int(), name: z.string() });
export const MovieSchema = z.object({
  id: MovieIdSchema,
  title: z.string().optional(),
  genres: z.array(GenreSchema).default([]),
  release_date: z.string().nullable().optional(),
  runtime: z.number().nullable().optional(),
  popularity: z.number().nullable().optional(),
  vote_average: z.number().nullable().optional(),
  vote_count: z.number().nullable().optional(),
  original_language: z.string().nullable().optional(),
  /** The MovieLens movie id, for datasets imported from MovieLens (the slug is `id`). */
  ml_id: z.number().int().nonnegative().optional(),
});
export type Movie = z.infer<typeof MovieSchema>;

/**
 * The star scale of a dataset's ratings: every rating is one of min, min + step, ..., max.
 * The event stream's is 1..5 in whole stars (STREAM_RATING_SCALE); MovieLens' ml-latest uses
 * half stars from 0.5. Training, the gate's baseline, evaluation and serving clip to it.
 */
export const RatingScaleSchema = z.object({
  min: z.number().finite(),
  max: z.number().finite(),
  step: z.number().finite().positive(),
}).strict().refine((s) => s.max > s.min && isWholeSteps(s.max - s.min, s.step), "a rating scale needs max > min and (max - min) a whole number of steps");
export type RatingScale = z.infer<typeof RatingScaleSchema>;

/** The stream's scale (BRIEF: "explicit rating, 1 to 5 stars"); also what a manifest or model without one means. */
export const STREAM_RATING_SCALE: RatingScale = Object.freeze({ min: 1, max: 5, step: 1 });

function isWholeSteps(span: number, step: number): boolean {
  const n = span / step;
  return Math.abs(n - Math.round(n)) < 1e-9;
}

/** Whether `rating` is one of the scale's values (3.5 is on 0.5..5 step 0.5, not on 1..5 step 1). */
export function onRatingScale(scale: RatingScale, rating: number): boolean {
  return rating >= scale.min && rating <= scale.max && isWholeSteps(rating - scale.min, scale.step);
}

/** A prediction clipped into [min, max] (not rounded to a step: RMSE is measured on the continuous value). */
export function clipToScale(scale: RatingScale, value: number): number {
  return value < scale.min ? scale.min : value > scale.max ? scale.max : value;
}

/** `0.5..5 step 0.5`: how messages name a scale. */
export function formatRatingScale(scale: RatingScale): string {
  return `${scale.min}..${scale.max} step ${scale.step}`;
}

/**
 * A scale as a user writes it on a command line, `MIN,MAX,STEP` (`0.5,5,0.5`); null when the
 * text is not three numbers forming a scale, so the caller can name its flag in the error.
 */
export function parseRatingScale(text: string): RatingScale | null {
  const parts = text.split(",");
  if (parts.length !== 3 || parts.some((p) => !/^\s*\d+(\.\d+)?\s*$/.test(p))) return null;
  const [min, max, step] = parts.map(Number) as [number, number, number];
  const scale = RatingScaleSchema.safeParse({ min, max, step });
  return scale.success ? scale.data : null;
}

/** The scale a manifest records; a manifest written before scales were recorded means the stream's 1..5. */
export function ratingScaleOf(manifest: Pick<Manifest, "ratingScale">): RatingScale {
  return manifest.ratingScale ?? STREAM_RATING_SCALE;
}

export const ManifestSchema = z.object({
  schemaVersion: z.literal(DATASET_SCHEMA_VERSION),
  source: z.string(),
  counts: z.record(z.string(), z.number().int().nonnegative()),
  timeRange: z.object({ first: z.string().nullable(), last: z.string().nullable() }),
  /** md5 of each data file (DVC style), so the dataset has a content identity. */
  files: z.record(z.string(), z.string()),
  /** md5 over the data files' md5s: the dataset's identity, recorded in models and releases. */
  dataHash: z.string(),
  /** The ratings' scale (absent in datasets written before it was recorded: 1..5 step 1). */
  ratingScale: RatingScaleSchema.optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export interface RatingRow { userId: number; movieId: string; rating: number; time: string }
export interface WatchRow { userId: number; movieId: string; minutes: number; maxMinute: number; firstTime: string; lastTime: string }

export async function readManifest(dir: string): Promise<Manifest> {
  return readJsonFile(ManifestSchema, join(dir, DATASET_FILES.manifest), "RECSYS_BAD_DATASET");
}

/**
 * Checks every file the manifest lists against its md5, so a consumer (train) never records a
 * dataHash for bytes it did not read: a file edited, cut short or removed since ingest is an
 * InputError (exit 2) naming it. Streams each file once; cheap next to training on it.
 *
 *     const manifest = await verifyDatasetFiles("data/ds");
 */
export async function verifyDatasetFiles(dir: string, manifest?: Manifest): Promise<Manifest> {
  const m = manifest ?? (await readManifest(dir));
  for (const [name, md5] of Object.entries(m.files).sort()) {
    const path = join(dir, name);
    const actual = await md5File(path).catch((err: NodeJS.ErrnoException) => {
      throw new InputError("RECSYS_DATASET_CHANGED", `${path}: listed in ${DATASET_FILES.manifest} but cannot be read (${err.code ?? err.message}); re-run 'recsys ingest' to rebuild ${dir}`);
    });
    if (actual !== md5) {
      throw new InputError("RECSYS_DATASET_CHANGED", `${path}: changed since ingest (md5 ${actual}, ${DATASET_FILES.manifest} says ${md5}); re-run 'recsys ingest' to rebuild ${dir}`);
    }
  }
  return m;
}

/** Reads the canonical ratings of a dataset directory (a wrong header or row names file and line). */
export async function readRatings(dir: string): Promise<RatingRow[]> {
  const rows: RatingRow[] = [];
  await readCsvLines(join(dir, DATASET_FILES.ratings), RATINGS_HEADER, (f) => {
    rows.push({ userId: Number(f[0]), movieId: f[1]!, rating: Number(f[2]), time: f[3]! });
  });
  return rows;
}

/** Reads the canonical watch signal of a dataset directory. */
export async function readWatches(dir: string): Promise<WatchRow[]> {
  const rows: WatchRow[] = [];
  await readCsvLines(join(dir, DATASET_FILES.watches), WATCHES_HEADER, (f) => {
    rows.push({ userId: Number(f[0]), movieId: f[1]!, minutes: Number(f[2]), maxMinute: Number(f[3]), firstTime: f[4]!, lastTime: f[5]! });
  });
  return rows;
}

/** Reads a JSON-lines file through a schema; a bad line is an error naming the file and line. */
export async function readJsonLines<S extends z.ZodType>(schema: S, path: string): Promise<z.output<S>[]> {
  const text = await readFile(path, "utf8");
  const out: z.output<S>[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let json: unknown;
    try { json = JSON.parse(line); } catch { json = line; }
    out.push(parseOrThrow(schema, json, `${path}:${i + 1}`, "RECSYS_BAD_DATASET"));
  });
  return out;
}

export async function readUsers(dir: string): Promise<User[]> {
  return readJsonLines(UserSchema, join(dir, DATASET_FILES.users));
}

export async function readMovies(dir: string): Promise<Movie[]> {
  return readJsonLines(MovieSchema, join(dir, DATASET_FILES.movies));
}
