import { parseEventTime } from "@recsys/core";

/**
 * Rating triples as parallel typed arrays: no object per rating, so 10M ratings cost about
 * 200 MB (user u32 + item u32 + value f32 + time f64) instead of gigabytes of heap objects.
 */
export interface RatingSet {
  length: number;
  users: Uint32Array;
  items: Uint32Array;
  values: Float32Array;
  /** Epoch milliseconds of the rating. */
  times: Float64Array;
}

/** Row index of a user or movie that the model does not know (only in held-out sets). */
export const UNKNOWN = 0xffffffff;

/** A RatingSet that grows by doubling while a file streams in. */
export class RatingBuilder {
  private cap = 1024;
  private set: RatingSet = allocate(this.cap);

  push(user: number, item: number, value: number, time: number): void {
    if (this.set.length === this.cap) this.grow();
    const s = this.set, n = s.length++;
    s.users[n] = user; s.items[n] = item; s.values[n] = value; s.times[n] = time;
  }

  /** The finished set, trimmed to its length (views, no copy). */
  finish(): RatingSet {
    return subset(this.set, 0, this.set.length);
  }

  private grow(): void {
    const next = allocate(this.cap * 2);
    next.users.set(this.set.users); next.items.set(this.set.items);
    next.values.set(this.set.values); next.times.set(this.set.times);
    next.length = this.set.length;
    this.cap *= 2;
    this.set = next;
  }
}

function allocate(n: number): RatingSet {
  return { length: 0, users: new Uint32Array(n), items: new Uint32Array(n), values: new Float32Array(n), times: new Float64Array(n) };
}

function subset(s: RatingSet, start: number, end: number): RatingSet {
  return {
    length: end - start, users: s.users.subarray(start, end), items: s.items.subarray(start, end),
    values: s.values.subarray(start, end), times: s.times.subarray(start, end),
  };
}

/** Copies the rows listed in `rows` (in that order) into a new set. */
export function pickRows(s: RatingSet, rows: Uint32Array): RatingSet {
  const out = allocate(rows.length);
  out.length = rows.length;
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    out.users[j] = s.users[r]!; out.items[j] = s.items[r]!; out.values[j] = s.values[r]!; out.times[j] = s.times[r]!;
  }
  return out;
}

/** Rows grouped by user (counting sort): rows of user u are order[offsets[u]..offsets[u+1]), in file order. */
export function rowsByUser(s: RatingSet, nUsers: number): { offsets: Uint32Array; order: Uint32Array } {
  return rowsByKey(s.users, s.length, nUsers);
}

/** Rows grouped by a row key (user or item column), in file order within a key. */
export function rowsByKey(keys: Uint32Array, length: number, nKeys: number): { offsets: Uint32Array; order: Uint32Array } {
  const offsets = new Uint32Array(nKeys + 1);
  for (let r = 0; r < length; r++) offsets[keys[r]! + 1]!++;
  for (let u = 0; u < nKeys; u++) offsets[u + 1]! += offsets[u]!;
  const fill = offsets.slice(0, nKeys);
  const order = new Uint32Array(length);
  for (let r = 0; r < length; r++) order[fill[keys[r]!]!++] = r;
  return { offsets, order };
}

/** Fisher-Yates shuffle of a[from..to) in place. */
export function shuffleRange(a: Uint32Array, from: number, to: number, rng: { int(n: number): number }): void {
  for (let j = to - 1; j > from; j--) {
    const s = from + rng.int(j - from + 1);
    const t = a[j]!; a[j] = a[s]!; a[s] = t;
  }
}

export function meanRating(s: RatingSet): number {
  let sum = 0;
  for (let r = 0; r < s.length; r++) sum += s.values[r]!;
  return s.length ? sum / s.length : 0;
}

/** A dataset time (ingest writes `YYYY-MM-DDTHH:MM:SS.ffffff`, UTC) in epoch milliseconds; NaN when malformed. */
export function eventTimeMs(time: string): number {
  return parseEventTime(time) / 1000;
}
