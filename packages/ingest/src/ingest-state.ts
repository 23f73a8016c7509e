import { join } from "node:path";
import { csvField, DATASET_FILES, REQUESTS_HEADER, type Movie, type User } from "@recsys/core";
import { createDedupWindow, DEFAULT_DEDUP_WINDOW, type DedupWindow } from "./dedup.ts";
import type { RejectReason } from "./errors.ts";
import { formatEventTimeUs, parseEventTime } from "@recsys/core";
import { LineSink } from "./line-sink.ts";
import { MovieIds } from "./pair-table.ts";
import type { EventScratch } from "./parse-event.ts";
import { emptyRejectCounts, LatencyHistogram } from "./quality.ts";
import { RatingTable, WatchTable } from "./tables.ts";
import type { TelemetryRecord } from "./telemetry.ts";

export const REJECTS_HEADER = "line_no,reason,line,source";

export interface StateOptions {
  tmpDir: string;
  source: string;
  sideUsers?: Map<number, User>;
  sideMovies?: Map<string, Movie>;
  strict?: boolean;
  dedupWindow?: number;
  /** False for inputs not in time order (MovieLens files go by user): no clock-skew counting. */
  timeOrdered?: boolean;
  /** What the user named as input (a path, "stdin"), for the refusal messages. */
  inputName: string;
  /** Rejected share of non-blank lines above which the run is refused (already checked 0..1). */
  maxRejectShare: number;
}

/**
 * Everything one ingestion run accumulates: the pair tables, the ids seen, the quality
 * counters, and the two streamed outputs (requests.csv and rejects.csv are written as lines
 * arrive, in input order, so they never sit in memory).
 */
export class IngestState {
  readonly movieIds = new MovieIds();
  readonly ratings = new RatingTable();
  readonly watches = new WatchTable();
  readonly usersSeen = new Set<number>();
  readonly unknownUsers = new Set<number>();
  readonly unknownMovies = new Set<string>();
  unknownUserLines = 0;
  unknownMovieLines = 0;
  readonly rejectCounts = emptyRejectCounts();
  readonly kinds = { watch: 0, rate: 0, request: 0, telemetry: 0 };
  readonly status = new Map<number, number>();
  readonly latency = new LatencyHistogram();
  lines = 0;
  blank = 0;
  outOfOrder = 0;
  maxSkewMs = 0;
  /** Earliest and latest accepted event time in microseconds (NaN before the first). */
  first = NaN;
  last = NaN;
  /** Latest time of the current input (the stream, then each telemetry file): the skew reference. */
  private latest = NaN;
  readonly dedupWindow: number;
  private readonly dedup: DedupWindow;

  private constructor(readonly options: StateOptions, readonly requests: LineSink, readonly rejects: LineSink) {
    this.dedupWindow = options.dedupWindow ?? DEFAULT_DEDUP_WINDOW;
    this.dedup = createDedupWindow(this.dedupWindow);
  }

  static async open(options: StateOptions): Promise<IngestState> {
    const requests = await LineSink.create(join(options.tmpDir, DATASET_FILES.requests), REQUESTS_HEADER.join(","));
    const rejects = await LineSink.create(join(options.tmpDir, DATASET_FILES.rejects), REJECTS_HEADER);
    return new IngestState(options, requests, rejects);
  }

  reject(lineNo: number, reason: RejectReason, line: string, source: string): void {
    this.rejectCounts[reason]++;
    this.rejects.write(`${lineNo},${reason},${csvField(line)},${csvField(source)}`);
  }

  /** Exact duplicates of a recent line; see dedup.ts for the window. */
  isDuplicate(line: string): boolean {
    return this.dedup.seen(line);
  }

  /** Counts an id missing from a given side file; true when --strict means the line must go. */
  private unknownUser(userId: number): boolean {
    const side = this.options.sideUsers;
    if (!side || side.has(userId)) return false;
    this.unknownUsers.add(userId);
    this.unknownUserLines++;
    return this.options.strict === true;
  }

  private unknownMovie(movieId: string): boolean {
    const side = this.options.sideMovies;
    if (!side || side.has(movieId)) return false;
    // A copy: a slice would keep the whole input chunk it was cut from alive.
    this.unknownMovies.add(Buffer.from(movieId).toString());
    this.unknownMovieLines++;
    return this.options.strict === true;
  }

  /** The accepted time range in the output format. */
  timeRange(): { first: string | null; last: string | null } {
    return Number.isNaN(this.first) ? { first: null, last: null } : { first: formatEventTimeUs(this.first), last: formatEventTimeUs(this.last) };
  }

  /** A new input begins (a telemetry file after the stream): its times are compared among themselves. */
  startInput(): void {
    this.latest = NaN;
  }

  /** Tracks the time range and clock skew (an earlier time after a later one: counted, kept). */
  private noteTime(time: number): void {
    if (!(time <= this.latest)) {
      this.latest = time;
    } else if (time < this.latest && this.options.timeOrdered !== false) {
      this.outOfOrder++;
      const skewMs = (this.latest - time) / 1000;
      if (skewMs > this.maxSkewMs) this.maxSkewMs = skewMs;
    }
    if (!(time <= this.last)) this.last = time;
    if (!(time >= this.first)) this.first = time;
  }

  /** Takes one parsed event line, or rejects it for an unknown id under --strict. */
  acceptEvent(e: EventScratch, lineNo: number, line: string, source: string): void {
    const movieUnknown = e.kind !== "request" && this.unknownMovie(e.movieId);
    if (this.unknownUser(e.userId)) return this.reject(lineNo, "unknown_user", line, source);
    if (movieUnknown) return this.reject(lineNo, "unknown_movie", line, source);
    this.noteTime(e.time);
    this.usersSeen.add(e.userId);
    this.kinds[e.kind]++;
    if (e.kind === "watch") this.watches.add(e.userId, this.movieIds.intern(e.movieId), e.minute, e.time);
    else if (e.kind === "rate") this.ratings.add(e.userId, this.movieIds.intern(e.movieId), e.rating, e.time);
    else this.addRequest(e.time, e.userId, e.status, e.latencyMs, [e.server, String(e.status), String(e.latencyMs), e.result, "", "", "", "", "", ""]);
  }

  /** Takes one already-checked rating (MovieLens rows, whose ids are all known). */
  acceptRating(userId: number, movieId: string, rating: number, time: number): void {
    this.unknownUser(userId);
    this.noteTime(time);
    this.usersSeen.add(userId);
    this.kinds.rate++;
    this.ratings.add(userId, this.movieIds.intern(movieId), rating, time);
  }

  /** Side information learnt after the run opened (MovieLens reads it from the same directory). */
  setSideInfo(users: Map<number, User> | undefined, movies: Map<string, Movie> | undefined): void {
    this.options.sideUsers = users;
    this.options.sideMovies = movies;
  }

  /** Takes one API response-log record as a requests.csv row with its provenance columns. */
  acceptTelemetry(t: TelemetryRecord, lineNo: number, line: string, source: string): void {
    if (this.unknownUser(t.userId)) return this.reject(lineNo, "unknown_user", line, source);
    const time = parseEventTime(t.time);
    this.noteTime(time);
    this.usersSeen.add(t.userId);
    this.kinds.telemetry++;
    this.addRequest(time, t.userId, t.status, t.latencyMs, [
      "", String(t.status), String(t.latencyMs), t.result, t.requestId, t.release, t.commit, t.modelHash, t.dataHash, t.exploreSlots,
    ]);
  }

  private addRequest(time: number, userId: number, status: number, latencyMs: number, rest: string[]): void {
    this.status.set(status, (this.status.get(status) ?? 0) + 1);
    this.latency.add(latencyMs);
    this.requests.write(`${formatEventTimeUs(time)},${userId},${rest.map(csvField).join(",")}`);
  }

  /** Awaited once per input chunk: keeps the streamed outputs' buffers bounded. */
  async flushIfFull(): Promise<void> {
    await this.requests.flushIfFull();
    await this.rejects.flushIfFull();
  }
}
