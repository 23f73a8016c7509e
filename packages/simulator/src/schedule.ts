/**
 * The time-ordered merge behind events.log: every live session (a request, its watched minutes,
 * its rating) sits in a pool of typed-array slots, and a binary min-heap on each session's next
 * event time decides which line comes next. Memory is bounded by the sessions of about one day,
 * never by the number of lines.
 */
export const PHASE = { request: 0, watch: 1, rate: 2 } as const;

export interface SessionPool {
  user: Int32Array;
  movie: Int32Array;
  /** Time of the session's next line (the heap key). */
  time: Float64Array;
  /** When watching starts, for a session that opens with a request line. */
  watchStart: Float64Array;
  phase: Uint8Array;
  minute: Int32Array;
  minutes: Int32Array;
  /** Stars to give at the end; 0 for none. */
  rating: Int8Array;
  status: Int16Array;
  latency: Int32Array;
  /** The recommendation list shown by the request line, if any. */
  recs: (Int32Array | null)[];
}

export interface SessionQueue {
  readonly pool: SessionPool;
  readonly size: number;
  /** A free slot; fill its fields, then `push` it. */
  alloc(): number;
  push(slot: number): void;
  /** The slot with the earliest next line (ties by slot number, so output is deterministic). */
  peek(): number;
  /** Re-sorts the top after its time moved later. */
  updateTop(): void;
  /** Drops the top and frees its slot. */
  popTop(): void;
}

function growPool(old: SessionPool | null, cap: number): SessionPool {
  const grow = <T extends Int32Array | Float64Array | Uint8Array | Int8Array | Int16Array>(a: T | undefined, make: (n: number) => T): T => {
    const b = make(cap);
    if (a) b.set(a);
    return b;
  };
  return {
    user: grow(old?.user, (n) => new Int32Array(n)),
    movie: grow(old?.movie, (n) => new Int32Array(n)),
    time: grow(old?.time, (n) => new Float64Array(n)),
    watchStart: grow(old?.watchStart, (n) => new Float64Array(n)),
    phase: grow(old?.phase, (n) => new Uint8Array(n)),
    minute: grow(old?.minute, (n) => new Int32Array(n)),
    minutes: grow(old?.minutes, (n) => new Int32Array(n)),
    rating: grow(old?.rating, (n) => new Int8Array(n)),
    status: grow(old?.status, (n) => new Int16Array(n)),
    latency: grow(old?.latency, (n) => new Int32Array(n)),
    recs: old ? old.recs.concat(new Array(cap - old.recs.length).fill(null)) : new Array(cap).fill(null),
  };
}

export function createSessionQueue(initialCapacity = 1024): SessionQueue {
  let cap = initialCapacity;
  let pool = growPool(null, cap);
  let heap = new Int32Array(cap);
  let size = 0;
  const free: number[] = [];
  let used = 0;

  const less = (a: number, b: number): boolean => {
    const ta = pool.time[a]!, tb = pool.time[b]!;
    return ta < tb || (ta === tb && a < b);
  };
  const siftUp = (pos: number): void => {
    const slot = heap[pos]!;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!less(slot, heap[parent]!)) break;
      heap[pos] = heap[parent]!;
      pos = parent;
    }
    heap[pos] = slot;
  };
  const siftDown = (pos: number): void => {
    const slot = heap[pos]!;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= size) break;
      if (child + 1 < size && less(heap[child + 1]!, heap[child]!)) child++;
      if (!less(heap[child]!, slot)) break;
      heap[pos] = heap[child]!;
      pos = child;
    }
    heap[pos] = slot;
  };

  return {
    get pool() { return pool; },
    get size() { return size; },
    alloc() {
      if (free.length) return free.pop()!;
      if (used === cap) {
        cap *= 2;
        pool = growPool(pool, cap);
        const h = new Int32Array(cap);
        h.set(heap);
        heap = h;
      }
      return used++;
    },
    push(slot) {
      heap[size] = slot;
      siftUp(size++);
    },
    peek() {
      return heap[0]!;
    },
    updateTop() {
      siftDown(0);
    },
    popTop() {
      const slot = heap[0]!;
      pool.recs[slot] = null;
      heap[0] = heap[--size]!;
      if (size > 0) siftDown(0);
      free.push(slot);
    },
  };
}
