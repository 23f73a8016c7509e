import { InputError } from "@recsys/core";

/**
 * Interned movie ids and (user, movie) -> slot indexes. Each movie's intern index selects a
 * Map keyed by user id: user ids are small integers that V8 hashes fast (a packed 53-bit pair
 * key would be a heap number), nothing is concatenated per line, and no single Map comes near
 * V8's 2^24-entry limit on a large MovieLens import.
 */
const MOVIE_BITS = 2 ** 21;

export class MovieIds {
  readonly ids: string[] = [];
  private readonly index = new Map<string, number>();

  /** The intern index of a movie id, adding it on first sight. */
  intern(id: string): number {
    let idx = this.index.get(id);
    if (idx === undefined) {
      idx = this.ids.length;
      if (idx >= MOVIE_BITS) throw new InputError("RECSYS_INGEST_TOO_MANY_MOVIES", `more than ${MOVIE_BITS} distinct movie ids`);
      // A copy: the id is a slice of an input chunk, and a kept slice keeps the whole chunk alive.
      const own = Buffer.from(id).toString();
      this.index.set(own, idx);
      this.ids.push(own);
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
  private readonly byMovie: (Map<number, number> | undefined)[] = [];
  size = 0;

  get(userId: number, movieIdx: number): number {
    return this.byMovie[movieIdx]?.get(userId) ?? -1;
  }

  /** The slot of (user, movie), creating the next slot number when the pair is new. */
  slot(userId: number, movieIdx: number): number {
    let users = this.byMovie[movieIdx];
    if (users === undefined) {
      while (this.byMovie.length <= movieIdx) this.byMovie.push(undefined);
      users = new Map();
      this.byMovie[movieIdx] = users;
    }
    let slot = users.get(userId);
    if (slot === undefined) {
      slot = this.size++;
      users.set(userId, slot);
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
