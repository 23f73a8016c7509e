import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { STREAM_RATING_SCALE, withoutPlainTwins, writeDirAtomic, type Progress } from "@recsys/core";
import { stripBom } from "./bom.ts";
import { unreadable } from "./errors.ts";
import { IngestState } from "./ingest-state.ts";
import { newScratch, parseEventInto } from "./parse-event.ts";
import { readMovieSideFile, readUserSideFile } from "./side-files.ts";
import { maxRejectShare } from "./reject-share.ts";
import { readTelemetryFile } from "./telemetry.ts";
import { finishDataset, type IngestSummary } from "./write-dataset.ts";

export interface IngestEventsOptions {
  /** The event log: a stream (stdin, a socket) or a file path. */
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string> | string;
  usersFile?: string;
  moviesFile?: string;
  /**
   * API response logs (TELEMETRY_HEADER CSV) merged into requests.csv after the stream's rows.
   * A directory stands for its `*.csv` files in name order (the API rotates its log by day).
   */
  telemetryFiles?: string[];
  outDir: string;
  /** Replace an outDir recsys did not write (see core's checkOutput; never an input). */
  force?: boolean;
  /** Reject lines whose user or movie is missing from a given side file (default: count and keep). */
  strict?: boolean;
  /** Lines remembered for exact-duplicate detection (default 65,536). */
  dedupWindow?: number;
  /** Refuse the run (exit 2) when more than this share of non-blank lines is rejected (0..1, default 0.5). */
  maxRejectShare?: number;
  /** The input's name in messages when it is a stream (default "the event stream"; the CLI says "stdin"). */
  inputName?: string;
  progress?: Progress;
}

/** Fails early, before any work, when a named input cannot be read; returns its kind. */
async function checkReadable(path: string, directoryOk = false): Promise<"file" | "dir"> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw unreadable(path, `cannot read (${err.code ?? err.message})`);
  });
  if (directoryOk && info.isDirectory()) return "dir";
  if (!info.isFile()) throw unreadable(path, "not a file");
  return "file";
}

async function telemetryPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await checkReadable(p, true)) === "file") out.push(p);
    else out.push(...withoutPlainTwins((await readdir(p)).filter((f) => /\.csv(\.gz)?$/.test(f))).sort().map((f) => join(p, f)));
  }
  return out;
}

const EVENTS_SOURCE = "events";
/** Real lines are ~100 characters (a request with 20 ids a few KB); past this a "line" is corruption. */
const MAX_LINE_CHARS = 1 << 16;

/** Splits the stream into lines by hand (faster than readline) and feeds each to the state. */
async function consumeEvents(input: AsyncIterable<Buffer | string>, state: IngestState, progress?: Progress): Promise<void> {
  const decoder = new StringDecoder("utf8");
  const scratch = newScratch();
  let rest = "";
  let lineNo = 0;
  const take = (raw: string) => {
    lineNo++;
    state.lines++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.length === 0) {
      state.blank++;
      return;
    }
    const reason = parseEventInto(line, scratch);
    if (reason !== null) state.reject(lineNo, reason, line, EVENTS_SOURCE);
    else if (state.isDuplicate(line)) state.reject(lineNo, "duplicate", line, EVENTS_SOURCE);
    else state.acceptEvent(scratch, lineNo, line, EVENTS_SOURCE);
  };
  // An over-long line is not buffered: its head is kept for rejects.csv and the rest skipped
  // up to the next newline, so a stream without newlines cannot grow memory.
  let overlongHead: string | null = null;
  let atStart = true;
  const endOverlong = () => {
    lineNo++;
    state.lines++;
    state.reject(lineNo, "too_long", `${overlongHead}...`, EVENTS_SOURCE);
    overlongHead = null;
  };
  for await (const chunk of input) {
    let text = typeof chunk === "string" ? chunk : decoder.write(chunk);
    if (atStart && text.length > 0) {
      text = stripBom(text);
      atStart = false;
    }
    if (overlongHead !== null) {
      const nl = text.indexOf("\n");
      if (nl < 0) continue;
      endOverlong();
      text = text.slice(nl + 1);
    }
    text = rest + text;
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > MAX_LINE_CHARS) {
      overlongHead = Buffer.from(rest.slice(0, 200)).toString();
      rest = "";
    }
    await state.flushIfFull();
    progress?.update(`ingest: ${lineNo} lines, ${state.rejects.lines} rejected`);
  }
  rest += decoder.end();
  if (overlongHead !== null) endOverlong();
  else if (rest.length > 0) take(rest);
  progress?.done(`ingest: ${lineNo} lines, ${state.rejects.lines} rejected`);
}

/**
 * Streams an event log into a canonical dataset directory (see README: files and columns).
 * Bad lines are quarantined in rejects.csv with their line number and a stable reason code;
 * good lines are all kept. Memory grows with distinct (user, movie) pairs, not with lines.
 * The directory appears atomically; the same input always gives the same bytes.
 *
 *     const summary = await ingestEvents({ input: process.stdin, usersFile: "users.json", outDir: "data/ds" });
 *     console.log(summary.dataHash, summary.counts.ratings);
 */
export async function ingestEvents(options: IngestEventsOptions): Promise<IngestSummary> {
  const maxShare = maxRejectShare(options.maxRejectShare);
  const files = [options.usersFile, options.moviesFile].filter((f): f is string => f !== undefined);
  if (typeof options.input === "string") files.unshift(options.input);
  for (const f of files) await checkReadable(f);
  const telemetry = await telemetryPaths(options.telemetryFiles ?? []);
  const sideUsers = options.usersFile ? await readUserSideFile(options.usersFile) : undefined;
  const sideMovies = options.moviesFile ? await readMovieSideFile(options.moviesFile) : undefined;
  let summary: IngestSummary | undefined;
  await writeDirAtomic(options.outDir, async (tmpDir) => {
    const input = typeof options.input === "string" ? createReadStream(options.input, { highWaterMark: 1 << 16 }) : options.input;
    const state = await IngestState.open({
      tmpDir, source: EVENTS_SOURCE, sideUsers, sideMovies, strict: options.strict, dedupWindow: options.dedupWindow,
      maxRejectShare: maxShare, inputName: typeof options.input === "string" ? options.input : options.inputName ?? "the event stream",
    });
    await consumeEvents(input as AsyncIterable<Buffer | string>, state, options.progress);
    for (const path of telemetry) await readTelemetryFile(path, state);
    summary = await finishDataset(state, options.outDir, STREAM_RATING_SCALE);
  }, { kind: "dataset", inputs: [...files, ...telemetry], force: options.force });
  return summary!;
}
