/**
 * A one-line progress display: redrawn in place on a TTY (at most every 100 ms), silent
 * elsewhere (CI, pipes), so logs stay clean. `done()` leaves the last line visible on a TTY.
 */
export interface Progress {
  update(text: string): void;
  /** Wipes the line (before other output is printed); the next update draws it again. */
  clear(): void;
  done(finalText?: string): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, intervalMs = 100): Progress {
  const live = Boolean(stream.isTTY) && !process.env.CI;
  let last = 0;
  let pending = "";
  const draw = (text: string) => stream.write(`\r\x1b[2K${text}`);
  return {
    update(text) {
      if (!live) return;
      pending = text;
      const now = Date.now();
      if (now - last >= intervalMs) {
        last = now;
        draw(text);
      }
    },
    clear() {
      if (live) stream.write("\r\x1b[2K");
      last = 0;
    },
    done(finalText) {
      if (!live) return;
      draw(finalText ?? pending);
      stream.write("\n");
    },
  };
}
