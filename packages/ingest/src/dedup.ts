/**
 * Exact-duplicate detection over a bounded sliding window of recent line hashes. A replayed
 * or double-delivered event arrives close to its first copy, so remembering the last `size`
 * lines catches it while memory stays fixed however long the stream runs.
 *
 * The hash is 53 bits (two 32-bit FNV-1a variants folded into one double): with a window of
 * 65,536 lines the chance that a good line is mistaken for a duplicate is about 2^-37 per line.
 */
export const DEFAULT_DEDUP_WINDOW = 65_536;

export interface DedupWindow {
  /** True when `line` equals one of the last `size` lines offered; remembers it either way. */
  seen(line: string): boolean;
}

function hashLine(line: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ line.length;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) & 0x1fffff);
}

/**
 *     const window = createDedupWindow(4);
 *     window.seen("a"); // false
 *     window.seen("a"); // true
 */
export function createDedupWindow(size = DEFAULT_DEDUP_WINDOW): DedupWindow {
  const ring = new Float64Array(size);
  const counts = new Map<number, number>();
  let next = 0;
  let filled = 0;
  return {
    seen(line) {
      const h = hashLine(line);
      const count = counts.get(h);
      if (filled === size) {
        const old = ring[next]!;
        const left = counts.get(old)! - 1;
        if (left === 0) counts.delete(old);
        else counts.set(old, left);
      } else {
        filled++;
      }
      ring[next] = h;
      next = (next + 1) % size;
      counts.set(h, (counts.get(h) ?? 0) + 1);
      return count !== undefined;
    },
  };
}
