/**
 * A fixed-capacity min-heap of (score, item) used to keep the best `capacity` items of a scan
 * without sorting the catalogue. Its arrays are allocated once per model and reused by every
 * request (`reset`), so scoring allocates nothing per item.
 */
export class TopK {
  readonly scores: Float64Array;
  readonly items: Int32Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.scores = new Float64Array(capacity);
    this.items = new Int32Array(capacity);
  }

  reset(): void {
    this.size = 0;
  }

  /** Offers an item; ties keep the earlier item, so results do not depend on heap internals. */
  push(score: number, item: number): void {
    const s = this.scores, it = this.items;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(score, item, s[p]!, it[p]!)) break;
        s[i] = s[p]!; it[i] = it[p]!; i = p;
      }
      s[i] = score; it[i] = item;
      return;
    }
    if (!worse(s[0]!, it[0]!, score, item)) return;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && worse(s[r]!, it[r]!, s[l]!, it[l]!) ? r : l;
      if (!worse(s[c]!, it[c]!, score, item)) break;
      s[i] = s[c]!; it[i] = it[c]!; i = c;
    }
    s[i] = score; it[i] = item;
  }

  /** Writes the kept items, best first, into `out` (their scores into `scoresOut`); returns how many. Empties the heap. */
  drainBestFirst(out: Int32Array, scoresOut?: Float64Array): number {
    const n = this.size;
    for (let k = n - 1; k >= 0; k--) {
      out[k] = this.items[0]!;
      if (scoresOut) scoresOut[k] = this.scores[0]!;
      // Pop the root: move the last element up and sift it down.
      const last = --this.size;
      const ls = this.scores[last]!, li = this.items[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const c = r < last && worse(this.scores[r]!, this.items[r]!, this.scores[l]!, this.items[l]!) ? r : l;
        if (!worse(this.scores[c]!, this.items[c]!, ls, li)) break;
        this.scores[i] = this.scores[c]!; this.items[i] = this.items[c]!; i = c;
      }
      this.scores[i] = ls; this.items[i] = li;
    }
    return n;
  }
}

/** Order of the heap: a lower score is worse; on equal scores the later item is worse. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}
