import { createReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "csv-parse";
import { onRatingScale, UserSchema, writeDirAtomic, type Movie, type RatingScale, type User } from "@recsys/core";
import { unknownLayout, unreadable, type RejectReason } from "./errors.ts";
import { IngestState } from "./ingest-state.ts";
import { mapGenres, ML100K_GENRES } from "./movielens-genres.ts";
import { parseId } from "./parse-event.ts";
import { maxRejectShare } from "./reject-share.ts";
import { uniqueSlugs } from "./slug.ts";
import { finishDataset, type IngestSummary } from "./write-dataset.ts";

export type MovieLensLayout = "ml-100k" | "ml-latest";

/** `headers`: the accepted spellings of the header line, GroupLens' own first (the one messages name). */
interface FileFormat { delimiter: string; quoted: boolean; encoding: BufferEncoding; headers?: string[] }
const U_DATA: FileFormat = { delimiter: "\t", quoted: false, encoding: "utf8" };
const U_PIPE: FileFormat = { delimiter: "|", quoted: false, encoding: "latin1" };
// Copies of ml-latest-small passed around on GitHub spell movieId as `Id`; the columns and their
// order are GroupLens' own, so that spelling is read the same way. Any other header is refused:
// columns are read by position, and a header we do not know may mean another order.
const LATEST_RATINGS: FileFormat = { delimiter: ",", quoted: true, encoding: "utf8", headers: ["userId,movieId,rating,timestamp", "userId,Id,rating,timestamp"] };
const LATEST_MOVIES: FileFormat = { delimiter: ",", quoted: true, encoding: "utf8", headers: ["movieId,title,genres", "Id,title,genres"] };

/** ml-latest's documented scale (half stars from 0.5); ml-100k's is the stream's whole stars 1..5. */
export const HALF_STAR_SCALE: RatingScale = Object.freeze({ min: 0.5, max: 5, step: 0.5 });
const WHOLE_STAR_SCALE: RatingScale = Object.freeze({ min: 1, max: 5, step: 1 });

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Which MovieLens layout `dir` holds: u.data means ml-100k, ratings.csv means ml-latest. */
export async function detectMovieLensLayout(dir: string): Promise<MovieLensLayout> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw unreadable(dir, `cannot read (${err.code ?? err.message})`);
  });
  if (!info.isDirectory()) throw unreadable(dir, "not a directory");
  if ((await exists(join(dir, "u.data"))) && (await exists(join(dir, "u.item")))) return "ml-100k";
  if ((await exists(join(dir, "ratings.csv"))) && (await exists(join(dir, "movies.csv")))) return "ml-latest";
  throw unknownLayout(dir);
}

interface Row { lineNo: number; fields: string[]; raw: string }

/**
 * Streams one MovieLens file through csv-parse as rows with their line numbers and raw text
 * (for rejects.csv); a header line, when the format has one, must match (else exit 2).
 */
async function* rows(path: string, format: FileFormat, state: IngestState): AsyncGenerator<Row> {
  const parser = createReadStream(path, { encoding: format.encoding }).pipe(parse({
    delimiter: format.delimiter, quote: format.quoted ? '"' : false, relax_column_count: true, relax_quotes: true,
    skip_empty_lines: true, raw: true, info: true, bom: true,
  }));
  for await (const { record, raw, info } of parser as AsyncIterable<{ record: string[]; raw: string; info: { lines: number } }>) {
    // csv-parse's raw text of a CRLF line keeps the \r (and not the \n): both are cut, so header and rejects read alike.
    const text = raw.replace(/\r?\n?$/, "");
    if (info.lines === 1 && format.headers) {
      if (!format.headers.includes(text.replace(/^\uFEFF/, ""))) throw unreadable(path, `header must be ${format.headers[0]} (line 1 is ${JSON.stringify(text.slice(0, 80))})`);
      continue;
    }
    state.lines++;
    yield { lineNo: info.lines, fields: record, raw: text };
  }
}

/** Reads the movie file into slugged Movie records keyed by MovieLens id. */
async function readMovies(path: string, layout: MovieLensLayout, state: IngestState, source: string): Promise<Map<number, Movie>> {
  const titles: [number, string, Row][] = [];
  const format = layout === "ml-100k" ? U_PIPE : LATEST_MOVIES;
  const width = layout === "ml-100k" ? 5 + ML100K_GENRES.length : 3;
  for await (const row of rows(path, format, state)) {
    const id = parseId(row.fields[0] ?? "");
    if (row.fields.length !== width) state.reject(row.lineNo, "truncated", row.raw, source);
    else if (id < 0) state.reject(row.lineNo, "bad_movie_id", row.raw, source);
    else titles.push([id, row.fields[1]!, row]);
  }
  const slugs = uniqueSlugs(titles.map(([id, title]) => [id, title] as const));
  const movies = new Map<number, Movie>();
  for (const [mlId, title, { fields }] of titles) {
    const genres = layout === "ml-100k"
      ? mapGenres(ML100K_GENRES.filter((_, g) => fields[5 + g] === "1"))
      : mapGenres(fields[2]!.split("|"));
    const release = layout === "ml-100k" ? releaseDate(fields[2]!) : undefined;
    movies.set(mlId, { id: slugs.get(mlId)!, title, genres, ...(release ? { release_date: release } : {}), ml_id: mlId });
  }
  return movies;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** ml-100k writes "01-Jan-1995"; the movie record uses ISO "1995-01-01". */
function releaseDate(text: string): string | undefined {
  const m = /^(\d{2})-([A-Z][a-z]{2})-(\d{4})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2]!) + 1 : 0;
  return m && month > 0 ? `${m[3]}-${String(month).padStart(2, "0")}-${m[1]}` : undefined;
}

/** ml-100k's u.user (id|age|gender|occupation|zip); the zip code is not kept. */
async function readUsers(path: string, state: IngestState): Promise<Map<number, User>> {
  const users = new Map<number, User>();
  for await (const row of rows(path, U_PIPE, state)) {
    const [id, age, gender, occupation] = row.fields;
    const user = UserSchema.safeParse({ user_id: parseId(id ?? ""), age: Number(age), gender, occupation });
    if (row.fields.length !== 5) state.reject(row.lineNo, "truncated", row.raw, "u.user");
    else if (!user.success) state.reject(row.lineNo, "bad_user_id", row.raw, "u.user");
    else users.set(user.data.user_id, user.data);
  }
  return users;
}

/** Checks one rating row against the movies and the accepted scale; the reason it is rejected, or null. */
function checkRating(fields: string[], movies: Map<number, Movie>, scale: RatingScale): RejectReason | null {
  if (fields.length !== 4) return "truncated";
  if (parseId(fields[0]!) < 0) return "bad_user_id";
  const mlId = parseId(fields[1]!);
  if (mlId < 0) return "bad_movie_id";
  if (!movies.has(mlId)) return "unknown_movie";
  if (!/^\d+(\.\d+)?$/.test(fields[2]!)) return "bad_rating";
  if (!onRatingScale(scale, Number(fields[2]))) return "rating_out_of_range";
  return /^\d{1,12}$/.test(fields[3]!) ? null : "bad_time";
}

/**
 * Imports a MovieLens directory (ml-100k or ml-latest, detected from its files) into the same
 * canonical dataset as ingestEvents. Movie ids become title slugs (`toy+story+1995`), the
 * MovieLens id stays in `ml_id`; half-star ratings are kept; ml-latest has no demographics,
 * so its users carry only user_id.
 *
 * The rating scale goes into the manifest: `ratingScale` when declared (a rating off it is a
 * `rating_out_of_range` reject), else detected: whole stars 1..5 when every kept rating is one,
 * else half stars 0.5..5 (ratings off half stars are rejected). Headers and rows may end in CRLF.
 *
 *     const summary = await importMovieLens({ dir: "ml-100k", outDir: "data/ml100k" });
 */
export async function importMovieLens(options: { dir: string; outDir: string; maxRejectShare?: number; force?: boolean; ratingScale?: RatingScale }): Promise<IngestSummary & { layout: MovieLensLayout }> {
  const { dir } = options;
  const maxShare = maxRejectShare(options.maxRejectShare);
  const layout = await detectMovieLensLayout(dir);
  const [ratingsFile, moviesFile] = layout === "ml-100k" ? ["u.data", "u.item"] : ["ratings.csv", "movies.csv"];
  let summary: IngestSummary | undefined;
  await writeDirAtomic(options.outDir, async (tmpDir) => {
    const state = await IngestState.open({ tmpDir, source: `movielens:${layout}`, timeOrdered: false, inputName: dir, maxRejectShare: maxShare });
    const movies = await readMovies(join(dir, moviesFile), layout, state, moviesFile);
    const usersPath = join(dir, "u.user");
    const users = layout === "ml-100k" && (await exists(usersPath)) ? await readUsers(usersPath, state) : undefined;
    state.setSideInfo(users, new Map([...movies.values()].map((m) => [m.id, m])));
    const accepted = options.ratingScale ?? HALF_STAR_SCALE;
    let wholeStars = true;
    for await (const { lineNo, fields, raw } of rows(join(dir, ratingsFile), layout === "ml-100k" ? U_DATA : LATEST_RATINGS, state)) {
      const reason = checkRating(fields, movies, accepted);
      if (reason) {
        state.reject(lineNo, reason, raw, ratingsFile);
        continue;
      }
      const userId = parseId(fields[0]!);
      const movieId = movies.get(parseId(fields[1]!))!.id, rating = Number(fields[2]);
      wholeStars &&= onRatingScale(WHOLE_STAR_SCALE, rating);
      state.acceptRating(userId, movieId, rating, Number(fields[3]) * 1_000_000);
      if (lineNo % 8192 === 0) await state.flushIfFull();
    }
    summary = await finishDataset(state, options.outDir, options.ratingScale ?? (wholeStars ? WHOLE_STAR_SCALE : HALF_STAR_SCALE));
  }, { kind: "dataset", inputs: [dir], force: options.force });
  return { ...summary!, layout };
}
