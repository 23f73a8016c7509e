import { mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * A buffered append-only line log: `write` copies the line's bytes into a preallocated chunk
 * (never touches the disk on the request path, and keeps no string alive: at tens of thousands
 * of lines a second, strings held until the next flush would all survive into V8's old
 * generation and cost more to collect than to format); a full chunk is appended at once, the
 * rest every `flushMs`, and `close` appends what is left. The header (for CSV files) is written
 * when the file is new or empty. Appends are serialised; a failed append is reported through
 * `onError` and its lines are dropped, so a full disk cannot grow memory without bound (nor can
 * a stuck disk: past `maxBuffered` lines not yet in the file, new ones are counted as dropped).
 *
 *     const log = createLineLog({ path: "logs/events.log", flushMs: 1000 });
 *     log.write(line);
 *     await log.close();
 */
export interface LineLog {
  write(line: string): void;
  /**
   * Appends one line that `encode` writes straight into the log's buffer from `at` (at most
   * `maxBytes`, newline excluded; the newline is added), returning where it ended; `arg` is
   * passed on to it (so a hot path needs no closure per line). For hot paths that would
   * otherwise build a string per line.
   */
  writeWith<T>(maxBytes: number, encode: (buf: Buffer, at: number, arg: T) => number, arg: T): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines lost to append errors or a full buffer. */
  dropped(): number;
}

export interface LineLogOptions {
  path: string;
  /** The lines written since the last append go to the file at least this often. */
  flushMs: number;
  header?: string;
  /** Lines not yet in the file past which new ones are dropped (and counted). */
  maxBuffered?: number;
  onError?: (err: Error) => void;
}

/**
 * Bytes per chunk. A chunk is appended as soon as it is full, so a busy log writes often and
 * little (a second's worth of lines in one write is megabytes: a visible stall on a small
 * machine) rather than once a flush interval.
 */
const CHUNK_BYTES = 128 * 1024;
/** Appended chunks kept for reuse: new buffers would count against V8's external memory and bring on full GCs. */
const SPARE_CHUNKS = 8;

interface Batch {
  chunks: Buffer[];
  lengths: number[];
  lines: number;
}

export function createLineLog(opts: LineLogOptions): LineLog {
  const maxBuffered = opts.maxBuffered ?? 200_000;
  const spares: Buffer[] = [];
  const newChunk = (bytes: number): Buffer => (bytes <= CHUNK_BYTES && spares.pop()) || Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
  /** Full chunks waiting to be appended, with their lengths. */
  let full: Batch = { chunks: [], lengths: [], lines: 0 };
  let chunk = newChunk(0);
  let used = 0;
  let lines = 0;
  /** Lines taken but not yet in the file (or dropped by a failed append). */
  let pending = 0;
  let chain: Promise<void> = Promise.resolve();
  let started = false;
  let dropped = 0;

  const appendBatch = async (batch: Batch): Promise<void> => {
    try {
      const views = batch.chunks.map((c, i) => c.subarray(0, batch.lengths[i]));
      if (!started) {
        await mkdir(dirname(opts.path), { recursive: true });
        const size = await stat(opts.path).then((s) => s.size, () => 0);
        if (opts.header && size === 0) views.unshift(Buffer.from(`${opts.header}\n`));
        started = true;
      }
      const file = await open(opts.path, "a");
      try {
        await file.writev(views);
      } finally {
        await file.close();
      }
    } catch (err) {
      dropped += batch.lines;
      opts.onError?.(err as Error);
    } finally {
      pending -= batch.lines;
      for (const c of batch.chunks) if (c.length === CHUNK_BYTES && spares.length < SPARE_CHUNKS) spares.push(c);
    }
  };

  /** Queues the full chunks for appending, after any append in flight. */
  const appendFull = (): Promise<void> => {
    if (full.chunks.length > 0) {
      const batch = full;
      full = { chunks: [], lengths: [], lines: 0 };
      chain = chain.then(() => appendBatch(batch));
    }
    return chain;
  };

  /** Retires the current chunk into the full ones and starts a new one that holds at least `bytes`. */
  const retire = (bytes: number): void => {
    if (used > 0) {
      full.chunks.push(chunk);
      full.lengths.push(used);
      full.lines += lines;
      chunk = newChunk(bytes);
    } else if (chunk.length < bytes) {
      chunk = newChunk(bytes);
    }
    used = 0;
    lines = 0;
  };

  const flush = (): Promise<void> => {
    retire(0);
    return appendFull();
  };

  const timer = setInterval(flush, opts.flushMs);
  timer.unref();

  /** Makes room for a line of up to `bytes` (newline included); false when it must be dropped. */
  const reserve = (bytes: number): boolean => {
    if (pending >= maxBuffered) {
      dropped++;
      return false;
    }
    if (chunk.length - used < bytes) {
      retire(bytes);
      void appendFull();
    }
    lines++;
    pending++;
    return true;
  };

  return {
    write(line) {
      // UTF-8 needs at most 3 bytes per UTF-16 unit, plus the newline.
      if (!reserve(line.length * 3 + 1)) return;
      used += chunk.write(line, used, "utf8");
      chunk[used++] = 10;
    },
    writeWith(maxBytes, encode, arg) {
      if (!reserve(maxBytes + 1)) return;
      used = encode(chunk, used, arg);
      chunk[used++] = 10;
    },
    flush,
    close() {
      clearInterval(timer);
      return flush();
    },
    dropped: () => dropped,
  };
}
