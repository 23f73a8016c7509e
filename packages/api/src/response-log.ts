import { mkdir, open, readdir, stat, type FileHandle } from "node:fs/promises";
import { basename, join } from "node:path";
import { TELEMETRY_HEADER, type TelemetryFields } from "@recsys/core";
import { RESPONSE_FILE, archiveResponseLogs, type RetentionPolicy } from "./response-log-archive.ts";
import { createResponseLineEncoder, responseLineBound } from "./response-line.ts";

/** One answered request, as the response log records it (columns of core TELEMETRY_HEADER). */
export interface ResponseRecord extends TelemetryFields {
  timeMs: number;
  /** The canonical user id, or a short printable excerpt of the segment when it was not a valid id. */
  userId: string;
  /** `result` as its CSV field's bytes (response-line.ts resultFieldBytes), when the caller keeps them: copied, not encoded again. */
  resultBytes?: Uint8Array;
}

export interface ResponseLog {
  /** Queues a record; it reaches the file on the next flush. Never blocks, never throws. */
  append(record: ResponseRecord): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Flushes, syncs and closes the file; later appends are dropped. */
  close(): Promise<void>;
  readonly written: number;
  /** Lines dropped because the queue hit its memory cap while writes kept failing. */
  readonly dropped: number;
}

export interface ResponseLogOptions {
  dir: string;
  flushMs: number;
  maxBytes: number;
  /** Applied to the closed (compressed) files at every rotation and at open; without one, none is removed. */
  retention?: RetentionPolicy;
  /** Called with a write error (disk full…); the lines stay queued for the next try. */
  onError?: (err: Error) => void;
  /** Called with one line per file retention removed. */
  onNotice?: (line: string) => void;
  /** The clock retention measures age with (tests pass a fixed one). */
  now?: () => number;
}

const HEADER = TELEMETRY_HEADER.join(",") + "\n";
const KEEP_ALL: RetentionPolicy = { maxAgeMs: Infinity, maxTotalBytes: Infinity };
/** A flush starts early once this much is queued, bounding memory under a flood. */
const EARLY_FLUSH_BYTES = 1 << 20;
/** With the disk failing, lines beyond this are dropped (and counted) rather than eat memory. */
const MAX_QUEUED_BYTES = 64 << 20;

const DAY_MS = 86_400_000;
/** Bytes per chunk lines are encoded into; full ones wait for the next write. */
const CHUNK_BYTES = 256 * 1024;
/** Written chunks kept for reuse, so a busy log allocates no buffer per chunk. */
const SPARE_CHUNKS = 8;

/** Encoded lines of one UTC day waiting to be written: bytes [start, used) of buf. */
interface Chunk {
  buf: Buffer;
  start: number;
  used: number;
  /** The UTC day number (ms / DAY_MS) of every line in it. */
  day: number;
  /** Lines in [start, used): counted as they are encoded, not searched for after each write. */
  lines: number;
}

/** "YYYYMMDD" of a UTC day number. */
function dayName(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "");
}

/** The newlines in buf[start, end): lines written. */
function countLines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let nl = buf.indexOf(LF, start); nl !== -1 && nl < end; nl = buf.indexOf(LF, nl + 1)) n++;
  return n;
}
const LF = 0x0a;

/**
 * The append-only per-response CSV log. Lines are encoded into reused byte chunks when a response
 * is sent (no string per line); a timer (and close) writes them with one append per chunk, so
 * disk latency never sits on a request. Files are `responses-YYYYMMDD[-n].csv` in `dir`, each
 * starting with the header; a new one begins at every UTC day and whenever the current one
 * passes `maxBytes`. A restart continues today's newest file. A crash loses at most the lines
 * of one flush interval; lines are written whole, so readers never see half a record except
 * after a machine crash at the very end of a file. At every rotation (and at open) the closed
 * files are gzipped to `.csv.gz` and the retention policy applied, in the background: neither
 * requests nor flushes wait for it.
 *
 *     const log = await openResponseLog({ dir: "logs/api", flushMs: 250, maxBytes: 64 << 20, retention: { maxAgeMs: 14 * 86_400_000, maxTotalBytes: 64 * 1024 ** 3 } });
 */
export async function openResponseLog(options: ResponseLogOptions): Promise<ResponseLog> {
  await mkdir(options.dir, { recursive: true });
  /** Chunks waiting to be written, oldest first; the last one is being filled. */
  let queue: Chunk[] = [];
  let queuedBytes = 0;
  const spares: Buffer[] = [];
  const encodeLine = createResponseLineEncoder();
  let written = 0;
  let dropped = 0;
  let earlyFlush = false;
  let closed = false;
  let file: { day: string; n: number; size: number; fh: FileHandle } | null = null;
  let writing: Promise<void> = Promise.resolve();
  let archiving: Promise<void> = Promise.resolve();
  // The newest file is read when the archiving runs, not when it was queued: a rotation in
  // between must not get the file now being written compressed. It stays set after close, so
  // the file a restart continues stays plain.
  let newest = "";

  const fileName = (day: string, n: number) => join(options.dir, `responses-${day}${n ? `-${n}` : ""}.csv`);

  async function openFor(day: string, n: number | null): Promise<void> {
    if (file) await file.fh.close();
    let index = n;
    if (index === null) {
      const existing = (await readdir(options.dir)).map((f) => RESPONSE_FILE.exec(f)).filter((m) => m?.[1] === day);
      // A compressed part is closed for good: continue after it, never write its plain name again.
      index = Math.max(0, ...existing.map((m) => Number(m![2] ?? 0) + (m![3] ? 1 : 0)));
    }
    let size = await stat(fileName(day, index)).then((s) => s.size, () => 0);
    if (size >= options.maxBytes) { index++; size = 0; }
    // Named before it exists: an archiving already running must never take it for a closed file.
    newest = basename(fileName(day, index));
    const fh = await open(fileName(day, index), "a");
    if (size === 0) size = (await fh.write(HEADER)).bytesWritten;
    file = { day, n: index, size, fh };
    archive();
  }

  function archive(): void {
    archiving = archiving
      .then(() => archiveResponseLogs(options.dir, newest, options.retention ?? KEEP_ALL, (options.now ?? Date.now)()))
      .then((removed) => removed.forEach((line) => options.onNotice?.(line)), (err: Error) => options.onError?.(err));
  }

  async function writeQueued(): Promise<void> {
    const chunks = queue;
    if (chunks.length === 0) return;
    queue = [];
    queuedBytes = 0;
    let k = 0;
    try {
      for (; k < chunks.length; k++) {
        const c = chunks[k]!;
        // One write per run of lines that fits the current file: a file ends at the first line end
        // past maxBytes, as the lines of a rotated file's gzip members do.
        while (c.start < c.used) {
          const day = dayName(c.day);
          if (!file || file.day !== day) await openFor(day, null);
          else if (file.size >= options.maxBytes) await openFor(day, file.n + 1);
          const current = file!;
          const budget = options.maxBytes - current.size;
          const end = c.used - c.start <= budget ? c.used : c.buf.indexOf(LF, c.start + Math.max(budget, 1) - 1) + 1;
          await current.fh.write(c.buf, c.start, end - c.start);
          current.size += end - c.start;
          // Only a chunk cut at a file's size limit needs its newlines counted.
          const lines = end === c.used ? c.lines : countLines(c.buf, c.start, end);
          written += lines;
          c.lines -= lines;
          c.start = end;
        }
        if (c.buf.length === CHUNK_BYTES && spares.length < SPARE_CHUNKS) spares.push(c.buf);
      }
    } catch (err) {
      // Keep what was not written (the failed chunk from where it stopped) for the next flush, and reopen the file then.
      queue = chunks.slice(k).concat(queue);
      queuedBytes = queue.reduce((n, c) => n + c.used - c.start, 0);
      await file?.fh.close().catch(() => undefined);
      file = null;
      options.onError?.(err as Error);
    }
  }

  const flush = (): Promise<void> => (writing = writing.then(writeQueued));
  const timer = setInterval(() => void flush(), options.flushMs);
  timer.unref();

  return {
    append(record) {
      if (closed) return;
      if (queuedBytes > MAX_QUEUED_BYTES) {
        dropped++;
        return;
      }
      const day = Math.floor(record.timeMs / DAY_MS);
      const bound = responseLineBound(record);
      let c = queue.at(-1);
      if (!c || c.day !== day || c.buf.length - c.used < bound) {
        const buf = (bound <= CHUNK_BYTES && spares.pop()) || Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bound));
        queue.push((c = { buf, start: 0, used: 0, day, lines: 0 }));
      }
      const end = encodeLine(c.buf, c.used, record);
      queuedBytes += end - c.used;
      c.used = end;
      c.lines++;
      if (queuedBytes > EARLY_FLUSH_BYTES && !earlyFlush) {
        earlyFlush = true;
        void flush().finally(() => (earlyFlush = false));
      }
    },
    flush,
    async close() {
      if (closed) return writing;
      closed = true;
      clearInterval(timer);
      await flush();
      if (file) {
        await file.fh.sync().catch(() => undefined);
        await file.fh.close();
        file = null;
      }
      await archiving;
    },
    get written() {
      return written;
    },
    get dropped() {
      return dropped;
    },
  };
}
