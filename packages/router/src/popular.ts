/**
 * The last good popular list: the most common ids among the last `window` successful answers.
 * Recording copies the answer's bytes into a preallocated slot (no string, nothing for the
 * garbage collector on the request path: answer strings kept for a window of requests would all
 * outlive a young-generation collection); the list is counted only when asked for, at most once
 * per `ttlMs` while answers keep arriving.
 *
 *     const popular = createPopularList({ window: 500, size: 20, seed: [] });
 *     popular.record(Buffer.from("a,b,c"), 0, 5);
 *     popular.current(Date.now()); // "a,b,c"
 */
export interface PopularList {
  /** Records the answer `bytes[start, end)` (comma-separated ids, UTF-8). */
  record(bytes: Buffer, start: number, end: number): void;
  /** Comma-separated ids, best first, or null before any answer (and no seed). */
  current(nowMs: number): string | null;
}

/**
 * Bytes kept of one answer: 20 ids of up to 25 bytes. A longer answer keeps its leading ids (the
 * ones ranked best), cut at a comma. The window costs `window` times this in memory.
 */
export const SLOT_BYTES = 512;

export function createPopularList(opts: { window: number; size: number; seed: readonly string[]; ttlMs?: number }): PopularList {
  const slots = Buffer.alloc(opts.window * SLOT_BYTES);
  const lengths = new Uint16Array(opts.window);
  const ttlMs = opts.ttlMs ?? 1000;
  let next = 0;
  let dirty = false;
  let cached: string | null = opts.seed.length ? opts.seed.slice(0, opts.size).join(",") : null;
  let countedAt = -Infinity;

  const count = (): string | null => {
    const counts = new Map<string, number>();
    for (let s = 0; s < opts.window; s++) {
      if (lengths[s] === 0) continue;
      const answer = slots.toString("utf8", s * SLOT_BYTES, s * SLOT_BYTES + lengths[s]);
      // Earlier positions weigh a little more: ties go to ids the model ranks higher.
      answer.split(",").forEach((id, pos) => counts.set(id, (counts.get(id) ?? 0) + 1 + 1 / (pos + 2)));
    }
    if (counts.size === 0) return cached;
    return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, opts.size).map(([id]) => id).join(",");
  };

  return {
    record(bytes, start, end) {
      if (end - start > SLOT_BYTES) {
        end = bytes.lastIndexOf(0x2c, start + SLOT_BYTES);
        if (end <= start) return;
      }
      bytes.copy(slots, next * SLOT_BYTES, start, end);
      lengths[next] = end - start;
      next = (next + 1) % opts.window;
      dirty = true;
    },
    current(nowMs) {
      if (dirty && nowMs - countedAt >= ttlMs) {
        cached = count();
        countedAt = nowMs;
        dirty = false;
      }
      return cached;
    },
  };
}
