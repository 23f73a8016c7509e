import { mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * A buffered append-only line log: `write` copies the line's bytes into a preallocated chunk
 * (never touches the disk on the request path, and keeps no string alive: at tens of thousands
 * of lines a second, strings held until the next flush would all survive into V8's old
 * generation and cost more to collect than to format); a timer appends the batch every
 * `flushMs`, and `close` appends the rest. The header (for CSV files) is written when the file
 * is new or empty. Flushes are serialised; a failed append is reported through `onError` and its
 * lines are dropped, so a full disk cannot grow memory without bound (nor can a stuck disk: past
 * `maxBuffered` lines new ones are counted as dropped).
 *
 *     const log = createLineLog({ path: "logs/events.log", flushMs: 1000 });
 *     log.write(line);
 *     await log.close();
 */
export interface LineLog {
  write(line: string): void;
  /**
   * Appends one line that `encode` writes straight into the log's buffer from `at` (at most
   * `maxBytes`, newline excluded; the newline is added), returning where it ended. For hot
   * paths that would otherwise build a string per line.
   */
  writeWith(maxBytes: number, encode: (buf: Buffer, at: number) => number): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines lost to append errors or a full buffer. */
  dropped(): number;
}

export interface LineLogOptions {
  path: string;
  flushMs: number;
  header?: string;
  maxBuffered?: number;
  onError?: (err: Error) => void;
}

const CHUNK_BYTES = 256 * 1024;

interface Batch {
  chunks: Buffer[];
  lines: number;
}

export function createLineLog(opts: LineLogOptions): LineLog {
  const maxBuffered = opts.maxBuffered ?? 200_000;
  let filled: Buffer[] = [];
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  let lines = 0;
  let chain: Promise<void> = Promise.resolve();
  let started = false;
  let dropped = 0;

  const appendBatch = async (batch: Batch): Promise<void> => {
    try {
      if (!started) {
        await mkdir(dirname(opts.path), { recursive: true });
        const size = await stat(opts.path).then((s) => s.size, () => 0);
        if (opts.header && size === 0) batch.chunks.unshift(Buffer.from(`${opts.header}\n`));
        started = true;
      }
      const file = await open(opts.path, "a");
      try {
        await file.writev(batch.chunks);
      } finally {
        await file.close();
      }
    } catch (err) {
      dropped += batch.lines;
      opts.onError?.(err as Error);
    }
  };

  const flush = (): Promise<void> => {
    if (lines > 0) {
      const batch: Batch = { chunks: [...filled, chunk.subarray(0, used)], lines };
      // The written part of the current chunk now belongs to the batch; carry on after it.
      chunk = chunk.subarray(used);
      filled = [];
      used = 0;
      lines = 0;
      chain = chain.then(() => appendBatch(batch));
    }
    return chain;
  };

  const timer = setInterval(flush, opts.flushMs);
  timer.unref();

  /** Makes room for a line of up to `bytes` (newline included); false when it must be dropped. */
  const reserve = (bytes: number): boolean => {
    if (lines >= maxBuffered) {
      dropped++;
      return false;
    }
    if (chunk.length - used < bytes) {
      if (used > 0) filled.push(chunk.subarray(0, used));
      chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
      used = 0;
    }
    lines++;
    return true;
  };

  return {
    write(line) {
      // UTF-8 needs at most 3 bytes per UTF-16 unit, plus the newline.
      if (!reserve(line.length * 3 + 1)) return;
      used += chunk.write(line, used, "utf8");
      chunk[used++] = 10;
    },
    writeWith(maxBytes, encode) {
      if (!reserve(maxBytes + 1)) return;
      used = encode(chunk, used);
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
