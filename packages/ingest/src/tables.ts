import { ensureCapacity, PairIndex, type MovieIds } from "./pair-table.ts";
import { MAX_MINUTE } from "./parse-event.ts";
import { csvField, formatEventTimeUs } from "@recsys/core";

/**
 * Per-(user, movie) state in typed columns: memory grows with distinct pairs, never with lines.
 * Times are microseconds since the epoch (core event-time.ts).
 */
const INITIAL = 1024;

/** Explicit ratings: the one with the latest event time wins (a tie goes to the later line). */
export class RatingTable {
  readonly index = new PairIndex();
  users = new Uint32Array(INITIAL);
  movies = new Uint32Array(INITIAL);
  values = new Float64Array(INITIAL);
  times = new Float64Array(INITIAL);
  /** Rating events that lost to another rating of the same pair (updated or stale). */
  superseded = 0;

  add(userId: number, movieIdx: number, rating: number, time: number): void {
    const before = this.index.size;
    const s = this.index.slot(userId, movieIdx);
    if (s === before) {
      this.users = ensureCapacity(this.users, s + 1);
      this.movies = ensureCapacity(this.movies, s + 1);
      this.values = ensureCapacity(this.values, s + 1);
      this.times = ensureCapacity(this.times, s + 1);
      this.users[s] = userId;
      this.movies[s] = movieIdx;
      this.values[s] = rating;
      this.times[s] = time;
      return;
    }
    this.superseded++;
    if (time >= this.times[s]!) {
      this.values[s] = rating;
      this.times[s] = time;
    }
  }

  /** CSV rows (RATINGS_HEADER order) sorted by user id, then movie id. */
  *rows(movieIds: MovieIds): Generator<string> {
    for (const s of this.index.sortedSlots(this.users, this.movies, movieIds)) {
      yield `${this.users[s]},${csvField(movieIds.ids[this.movies[s]!]!)},${this.values[s]},${formatEventTimeUs(this.times[s]!)}`;
    }
  }
}

const MAX_WORDS = (MAX_MINUTE >> 5) + 1;

/**
 * Implicit watch signal: the distinct minutes seen per pair, kept as a bitset in one shared
 * pool. A pair's bitset starts small and moves to the pool's end when it must grow (at most
 * 45 words for a day of minutes), so typical films cost a few words, not an object each.
 */
export class WatchTable {
  readonly index = new PairIndex();
  users = new Uint32Array(INITIAL);
  movies = new Uint32Array(INITIAL);
  minutes = new Uint32Array(INITIAL);
  maxMinute = new Uint32Array(INITIAL);
  private offset = new Uint32Array(INITIAL);
  private words = new Uint32Array(INITIAL);
  private pool = new Uint32Array(INITIAL * 4);
  private poolEnd = 0;
  firstTimes = new Float64Array(INITIAL);
  lastTimes = new Float64Array(INITIAL);
  /** Watch lines for a minute the pair had already watched (a rewatch or a replay). */
  repeatedMinutes = 0;

  private grow(n: number): void {
    this.users = ensureCapacity(this.users, n);
    this.movies = ensureCapacity(this.movies, n);
    this.minutes = ensureCapacity(this.minutes, n);
    this.maxMinute = ensureCapacity(this.maxMinute, n);
    this.offset = ensureCapacity(this.offset, n);
    this.words = ensureCapacity(this.words, n);
    this.firstTimes = ensureCapacity(this.firstTimes, n);
    this.lastTimes = ensureCapacity(this.lastTimes, n);
  }

  private allocate(s: number, words: number): void {
    this.pool = ensureCapacity(this.pool, this.poolEnd + words);
    const old = this.offset[s]!;
    for (let w = 0; w < this.words[s]!; w++) this.pool[this.poolEnd + w] = this.pool[old + w]!;
    this.offset[s] = this.poolEnd;
    this.words[s] = words;
    this.poolEnd += words;
  }

  add(userId: number, movieIdx: number, minute: number, time: number): void {
    const before = this.index.size;
    const s = this.index.slot(userId, movieIdx);
    const word = minute >> 5;
    if (s === before) {
      this.grow(s + 1);
      this.users[s] = userId;
      this.movies[s] = movieIdx;
      this.minutes[s] = 0;
      this.maxMinute[s] = minute;
      this.words[s] = 0;
      this.allocate(s, Math.min(MAX_WORDS, Math.max(4, word + 1)));
      this.firstTimes[s] = time;
      this.lastTimes[s] = time;
    } else {
      if (minute > this.maxMinute[s]!) this.maxMinute[s] = minute;
      if (time < this.firstTimes[s]!) this.firstTimes[s] = time;
      if (time > this.lastTimes[s]!) this.lastTimes[s] = time;
      if (word >= this.words[s]!) this.allocate(s, Math.min(MAX_WORDS, Math.max(word + 1, this.words[s]! * 2)));
    }
    const at = this.offset[s]! + word;
    const bit = 1 << (minute & 31);
    if (this.pool[at]! & bit) {
      this.repeatedMinutes++;
    } else {
      this.pool[at] = this.pool[at]! | bit;
      this.minutes[s] = this.minutes[s]! + 1;
    }
  }

  /** CSV rows (WATCHES_HEADER order) sorted by user id, then movie id. */
  *rows(movieIds: MovieIds): Generator<string> {
    for (const s of this.index.sortedSlots(this.users, this.movies, movieIds)) {
      yield `${this.users[s]},${csvField(movieIds.ids[this.movies[s]!]!)},${this.minutes[s]},${this.maxMinute[s]},${formatEventTimeUs(this.firstTimes[s]!)},${formatEventTimeUs(this.lastTimes[s]!)}`;
    }
  }
}
