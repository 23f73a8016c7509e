import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";

/**
 * A buffered line writer with backpressure: lines collect in a small buffer, and `maybeFlush`
 * hands a chunk to the file stream and waits for 'drain' when the OS is behind, so memory stays
 * bounded however many lines are produced.
 */
export interface LineSink {
  push(line: string): void;
  /** Awaits only when the buffer is full (call it once per event in the hot loop). */
  maybeFlush(): Promise<void> | undefined;
  close(): Promise<void>;
  readonly lines: number;
}

const CHUNK_LINES = 4096;

export function createLineSink(path: string): LineSink {
  const stream: WriteStream = createWriteStream(path);
  let buffer: string[] = [];
  let lines = 0;
  const flush = async (): Promise<void> => {
    if (!buffer.length) return;
    const ok = stream.write(buffer.join("\n") + "\n");
    buffer = [];
    if (!ok) await once(stream, "drain");
  };
  return {
    push(line) {
      buffer.push(line);
      lines++;
    },
    maybeFlush() {
      return buffer.length >= CHUNK_LINES ? flush() : undefined;
    },
    async close() {
      await flush();
      stream.end();
      await once(stream, "finish");
    },
    get lines() {
      return lines;
    },
  };
}
