/**
 * Exact-duplicate detection over a bounded sliding window of recent line hashes. A replayed
 * or double-delivered event arrives close to its first copy, so remembering the last `size`
 * lines catches it while memory stays fixed however long the stream runs.
 *
 * Each line gets two independent 30-bit hashes: the first keys a Map (small integers hash fast
 * in V8) to the line's ring position, the second is checked there. A good line is taken for a
 * duplicate only if both agree with a line in the window: about 2^-44 per line at 65,536
 * lines. When two window lines share the first hash, the older is forgotten early: a rare
 * missed duplicate, never a lost good line.
 */
export const DEFAULT_DEDUP_WINDOW = 65_536;

export interface DedupWindow {
  /** True when `line` equals one of the last `size` lines offered; remembers it either way. */
  seen(line: string): boolean;
}

/**
 *     const window = createDedupWindow(4);
 *     window.seen("a"); // false
 *     window.seen("a"); // true
 */
export function createDedupWindow(size = DEFAULT_DEDUP_WINDOW): DedupWindow {
  const first = new Int32Array(size);
  const second = new Int32Array(size);
  const position = new Map<number, number>();
  let next = 0;
  let filled = 0;
  return {
    seen(line) {
      let a = 0x811c9dc5;
      let b = 0x9747b28c ^ line.length;
      for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995);
        b ^= b >>> 13;
      }
      const h1 = a >>> 2;
      const h2 = (b ^ (b >>> 15)) >>> 2;
      const at = position.get(h1);
      const duplicate = at !== undefined && second[at] === h2;
      if (filled === size) {
        const old = first[next]!;
        if (position.get(old) === next) position.delete(old);
      } else {
        filled++;
      }
      first[next] = h1;
      second[next] = h2;
      position.set(h1, next);
      next = next + 1 === size ? 0 : next + 1;
      return duplicate;
    },
  };
}
