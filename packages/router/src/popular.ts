/**
 * The last good popular list: the most common ids among the last `window` successful answers.
 * Recording keeps a reference to the answer string (no parsing on the request path); the list is
 * counted only when asked for, at most once per `ttlMs` while answers keep arriving.
 *
 *     const popular = createPopularList({ window: 500, size: 20, seed: [] });
 *     popular.record("a,b,c");
 *     popular.current(Date.now()); // "a,b,c"
 */
export interface PopularList {
  record(answer: string): void;
  /** Comma-separated ids, best first, or null before any answer (and no seed). */
  current(nowMs: number): string | null;
}

export function createPopularList(opts: { window: number; size: number; seed: readonly string[]; ttlMs?: number }): PopularList {
  const ring: string[] = new Array<string>(opts.window).fill("");
  const ttlMs = opts.ttlMs ?? 1000;
  let next = 0;
  let dirty = false;
  let cached: string | null = opts.seed.length ? opts.seed.slice(0, opts.size).join(",") : null;
  let countedAt = -Infinity;

  const count = (): string | null => {
    const counts = new Map<string, number>();
    for (const answer of ring) {
      if (!answer) continue;
      // Earlier positions weigh a little more: ties go to ids the model ranks higher.
      answer.split(",").forEach((id, pos) => counts.set(id, (counts.get(id) ?? 0) + 1 + 1 / (pos + 2)));
    }
    if (counts.size === 0) return cached;
    return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, opts.size).map(([id]) => id).join(",");
  };

  return {
    record(answer) {
      ring[next] = answer;
      next = (next + 1) % ring.length;
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
