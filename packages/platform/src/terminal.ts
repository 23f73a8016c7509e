import { formatLiveView, formatStatus, type LiveStatus } from "./status.ts";

/** Where the main job reports: a terminal, a CI log, or a test. */
export interface MainJobOutput {
  /** One line per event that matters: a stage's result, a model trained, a canary started, a verdict. */
  event(line: string): void;
  /** The canary's full analysis lines, one per interval (always kept in platform/analysis.log). */
  detail?(line: string): void;
  /** The live figures, about once a second while the platform runs. */
  status?(view: LiveStatus): void;
  /** The live phase is over: no more status() calls. */
  close?(): void;
}

/** A stream as a terminal may be: `isTTY` and `columns` when it is one. */
export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * A block of lines at the bottom of a terminal, redrawn in place, with ordinary lines printed
 * above it: each write moves up over the block, clears to the end of the screen and writes the
 * new text, in one write so the terminal never shows half a frame. Rows are cut to the
 * terminal's width, since a wrapped row would throw off the count of rows to move up.
 */
export function createLiveBlock(stream: OutputStream) {
  let rows: string[] = [];
  let drawn = 0;
  const frame = (above: string) => {
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const up = drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : "";
    drawn = rows.length;
    stream.write(up + above + rows.map((r) => (r.length > width ? r.slice(0, width - 1) + "…" : r) + "\n").join(""));
  };
  return {
    /** Prints `line` above the block. */
    line(line: string): void { frame(line + "\n"); },
    /** Replaces the block's rows. */
    draw(next: string[]): void { rows = next; frame(""); },
    /** Leaves the last frame on screen; later output goes below it. */
    done(): void { drawn = 0; rows = []; },
  };
}

/** How often a non-terminal log gets the status line, in status() calls (about seconds). */
const HEARTBEAT_EVERY = 30;

/**
 * The main job's output for a person or a CI log. On a terminal (`isTTY`, no `CI` variable): the
 * live view redrawn in place below the event lines. Otherwise: event lines only, plus the
 * one-line status every 30 s, so a CI log reads top to bottom with no redraws. The canary's
 * analysis lines are shown only with `verbose`.
 *
 *     const summary = await runMainJob(options, createTerminalOutput(process.stderr, { verbose: false }));
 */
export function createTerminalOutput(stream: OutputStream, options: { verbose: boolean; env?: NodeJS.ProcessEnv }): MainJobOutput {
  const live = Boolean(stream.isTTY) && !(options.env ?? process.env).CI;
  const block = live ? createLiveBlock(stream) : null;
  let calls = 0;
  const event = (line: string) => (block ? block.line(line) : stream.write(line + "\n"));
  return {
    event,
    detail: (line) => { if (options.verbose) event(line); },
    status(view) {
      if (block) block.draw(formatLiveView(view));
      else if (++calls % HEARTBEAT_EVERY === 0) stream.write(formatStatus(view.platform, view.traffic) + "\n");
    },
    close: () => block?.done(),
  };
}
