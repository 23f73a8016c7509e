import { InputError } from "@recsys/core";

/**
 * Interned movie ids and (user, movie) -> slot indexes. A pair key packs the user id (< 2^32)
 * and the movie's intern index (< 2^21) into one safe integer, so lookups hash a number rather
 * than a concatenated string. Keys are spread over several Maps because one Map holds at most
 * 2^24 entries, which a large MovieLens import passes.
 */
const MOVIE_BITS = 2 ** 21;
const SHARDS = 8;

export class MovieIds {
  readonly ids: string[] = [];
  private readonly index = new Map<string, number>();

  /** The intern index of a movie id, adding it on first sight. */
  intern(id: string): number {
    let idx = this.index.get(id);
    if (idx === undefined) {
      idx = this.ids.length;
      if (idx >= MOVIE_BITS) throw new InputError("RECSYS_INGEST_TOO_MANY_MOVIES", `more than ${MOVIE_BITS} distinct movie ids`);
      this.index.set(id, idx);
      this.ids.push(id);
    }
    return idx;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** Intern indexes in output order (movie id as a string) and each index's rank in it. */
  order(): { byName: number[]; rank: Uint32Array } {
    const byName = this.ids.map((_, i) => i).sort((a, b) => (this.ids[a]! < this.ids[b]! ? -1 : 1));
    const rank = new Uint32Array(byName.length);
    byName.forEach((idx, r) => (rank[idx] = r));
    return { byName, rank };
  }
}

/** Slots for (user, movie) pairs, numbered 0, 1, 2... in order of first sight. */
export class PairIndex {
  private readonly shards = Array.from({ length: SHARDS }, () => new Map<number, number>());
  size = 0;

  get(userId: number, movieIdx: number): number {
    return this.shards[movieIdx % SHARDS]!.get(userId * MOVIE_BITS + movieIdx) ?? -1;
  }

  /** The slot of (user, movie), creating the next slot number when the pair is new. */
  slot(userId: number, movieIdx: number): number {
    const shard = this.shards[movieIdx % SHARDS]!;
    const key = userId * MOVIE_BITS + movieIdx;
    let slot = shard.get(key);
    if (slot === undefined) {
      slot = this.size++;
      shard.set(key, slot);
    }
    return slot;
  }

  /**
   * Slots in output order: by user id, then movie id as a string. Sorting packed numeric keys
   * (user, movie rank) in a Float64Array is far cheaper than a comparator over rows.
   */
  sortedSlots(users: Uint32Array, movies: Uint32Array, movieIds: MovieIds): Uint32Array {
    const { byName, rank } = movieIds.order();
    const keys = new Float64Array(this.size);
    for (let s = 0; s < this.size; s++) keys[s] = users[s]! * MOVIE_BITS + rank[movies[s]!]!;
    keys.sort();
    const out = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const user = Math.floor(keys[i]! / MOVIE_BITS);
      out[i] = this.get(user, byName[keys[i]! - user * MOVIE_BITS]!);
    }
    return out;
  }
}

/** Returns `arr` or a copy with room for at least `needed` items (capacity doubles). */
export function ensureCapacity<T extends Uint32Array | Float64Array>(arr: T, needed: number): T {
  if (needed <= arr.length) return arr;
  const next = new (arr.constructor as new (n: number) => T)(Math.max(needed, arr.length * 2));
  next.set(arr);
  return next;
}
