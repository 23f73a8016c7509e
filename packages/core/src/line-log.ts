import { appendFile, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * A buffered append-only line log: `write` only pushes onto an array (never touches the disk on
 * the request path); a timer appends the batch every `flushMs`, and `close` appends the rest.
 * The header (for CSV files) is written when the file is new or empty. Flushes are serialised;
 * a failed append is reported through `onError` and its lines are dropped, so a full disk cannot
 * grow memory without bound (nor can a stuck disk: past `maxBuffered` lines new ones are counted
 * as dropped).
 *
 *     const log = createLineLog({ path: "logs/events.log", flushMs: 1000 });
 *     log.write(line);
 *     await log.close();
 */
export interface LineLog {
  write(line: string): void;
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

export function createLineLog(opts: LineLogOptions): LineLog {
  const maxBuffered = opts.maxBuffered ?? 200_000;
  let buffer: string[] = [];
  let chain: Promise<void> = Promise.resolve();
  let started = false;
  let dropped = 0;

  const appendBatch = async (lines: string[]): Promise<void> => {
    try {
      if (!started) {
        await mkdir(dirname(opts.path), { recursive: true });
        const size = await stat(opts.path).then((s) => s.size, () => 0);
        if (opts.header && size === 0) lines.unshift(opts.header);
        started = true;
      }
      await appendFile(opts.path, lines.join("\n") + "\n");
    } catch (err) {
      dropped += lines.length;
      opts.onError?.(err as Error);
    }
  };

  const flush = (): Promise<void> => {
    if (buffer.length > 0) {
      const lines = buffer;
      buffer = [];
      chain = chain.then(() => appendBatch(lines));
    }
    return chain;
  };

  const timer = setInterval(flush, opts.flushMs);
  timer.unref();

  return {
    write(line) {
      if (buffer.length >= maxBuffered) dropped++;
      else buffer.push(line);
    },
    flush,
    close() {
      clearInterval(timer);
      return flush();
    },
    dropped: () => dropped,
  };
}
