import { on } from "node:events";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import { writeFileAtomic } from "@recsys/core";

/** `responses-YYYYMMDD[-n].csv`, or the same compressed once closed (`.csv.gz`). */
export const RESPONSE_FILE = /^responses-(\d{8})(?:-(\d+))?\.csv(\.gz)?$/;

/** The member table written next to a rotated `X.csv.gz`, as `X.csv.gz.members`. */
export const MEMBERS_SUFFIX = ".members";

/** About this many uncompressed bytes (whole lines) go into one gzip member. */
export const MEMBER_BYTES = 1 << 20;

/**
 * Where each gzip member of a rotated log sits: `[compressed start, compressed length,
 * uncompressed start, uncompressed length]`, in file order. `gzBytes` is the `.gz` file's size,
 * so a table that does not belong to the file next to it is never trusted.
 */
export interface GzipMembers {
  version: 1;
  gzBytes: number;
  members: Array<[number, number, number, number]>;
}

/**
 * zlib level 4, not the default 6: on API-shaped log lines it spent 3.8 µs of CPU a line against
 * 11.6 (a third of what serving a cached request costs) for 11-14% more bytes (bench/RESULTS.md,
 * "Response log size").
 */
const GZIP_LEVEL = 4;

type MemberRow = [number, number, number, number];

/**
 * Cuts a byte stream into runs of about `memberBytes` whole lines, compresses each with
 * `compress` and hands it to `emit` with its row of the member table. Self-contained (no
 * imports, only the global Buffer) because its source is also what the archiving worker runs.
 * Each chunk is copied before push returns, so a caller may reuse its buffer.
 */
function createMemberCutter(memberBytes: number, compress: (bytes: Buffer) => Uint8Array, emit: (member: Uint8Array, row: MemberRow) => void) {
  // One buffer, reused for every member: fresh ~1 MiB buffers per member cost ~2 µs a logged
  // line, mostly page faults on new memory.
  let buf = Buffer.allocUnsafe(2 * memberBytes), used = 0, zAt = 0, uAt = 0;
  const flush = (end: number) => {
    const member = compress(buf.subarray(0, end));
    emit(member, [zAt, member.length, uAt, end]);
    zAt += member.length;
    uAt += end;
    buf.copyWithin(0, end, used);
    used -= end;
  };
  return {
    push(chunk: Uint8Array) {
      for (let from = 0; from < chunk.length;) {
        if (used === buf.length) buf = Buffer.concat([buf], 2 * buf.length); // a line longer than the buffer
        const n = Math.min(chunk.length - from, buf.length - used);
        buf.set(chunk.subarray(from, from + n), used);
        used += n;
        from += n;
        // Cut after the first line end at or past memberBytes: members hold whole lines only.
        for (let nl; used >= memberBytes && (nl = buf.subarray(0, used).indexOf(10, memberBytes - 1)) !== -1;) flush(nl + 1);
      }
    },
    end() {
      if (used > 0) flush(used);
    },
  };
}

/**
 * Gzips `source` as a series of independent gzip members of about `memberBytes` whole lines
 * each, recording where each one starts in `table`: the members and table the API's rotation
 * writes (gzipFileInWorker), computed here on the calling thread. The concatenation is an
 * ordinary gzip file (gunzip, zcat and Node read every member in turn); the table lets a reader
 * inflate only the member that holds a line instead of everything before it.
 *
 *     const table: GzipMembers = { version: 1, gzBytes: 0, members: [] };
 *     await writeFileAtomic("x.csv.gz", gzipInMembers(createReadStream("x.csv"), table));
 */
export async function* gzipInMembers(source: AsyncIterable<Buffer> | Iterable<Buffer>, table: GzipMembers, memberBytes = MEMBER_BYTES): AsyncGenerator<Buffer> {
  const ready: Buffer[] = [];
  const cutter = createMemberCutter(memberBytes, (bytes) => gzipSync(bytes, { level: GZIP_LEVEL }), (member, row) => {
    table.members.push(row);
    ready.push(Buffer.from(member));
  });
  for await (const chunk of source) {
    cutter.push(chunk);
    yield* ready.splice(0);
  }
  cutter.end();
  yield* ready.splice(0);
  table.gzBytes = gzBytes(table);
}

const gzBytes = (table: GzipMembers) => table.members.reduce((n, [, zLength]) => n + zLength, 0);

/**
 * The archiving worker: lowers its own thread to the lowest CPU priority (Linux applies nice per
 * thread; elsewhere it still runs off the main thread), then reads the file and compresses it
 * with zlib's synchronous calls (libuv's pool threads would run at the API's priority), posting
 * each member. `__name` is the helper that tsx's transform calls inside the cutter's source.
 */
const ARCHIVE_WORKER_SOURCE = `
const { parentPort, workerData: d } = require("node:worker_threads");
const { closeSync, openSync, readSync, readlinkSync } = require("node:fs");
const { setPriority } = require("node:os");
const { gzipSync } = require("node:zlib");
const __name = (f) => f;
try { setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), 19); } catch {}
const cutter = (${createMemberCutter.toString()})(d.memberBytes, (bytes) => gzipSync(bytes, { level: d.level }), (member, row) => parentPort.postMessage({ member, row }));
const fd = openSync(d.path, "r");
try {
  const buf = Buffer.allocUnsafe(d.memberBytes);
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) cutter.push(buf.subarray(0, n));
  cutter.end();
} finally {
  closeSync(fd);
}
parentPort.postMessage({ done: true });`;

/**
 * gzipInMembers of the file at `path`, computed by a worker thread at the lowest CPU priority:
 * rotating a 64 MiB log costs the API's main thread only the receipt of each ~130 KB member, and
 * on a busy machine requests are served before compression. On a machine that stays saturated
 * the compression waits, and the plain file stays (retention removes compressed files only).
 *
 *     await writeFileAtomic("x.csv.gz", gzipFileInWorker("x.csv", table));
 */
export async function* gzipFileInWorker(path: string, table: GzipMembers, memberBytes = MEMBER_BYTES): AsyncGenerator<Buffer> {
  const worker = new Worker(ARCHIVE_WORKER_SOURCE, { eval: true, workerData: { path, memberBytes, level: GZIP_LEVEL } });
  let done = false;
  try {
    // close: a worker that exits without `done` ends the loop instead of leaving it waiting; its errors reject it.
    for await (const [message] of on(worker, "message", { close: ["exit"] }) as AsyncIterable<[{ member?: Uint8Array; row?: MemberRow; done?: true }]>) {
      if ((done = message.done === true)) break;
      table.members.push(message.row!);
      yield Buffer.from(message.member!.buffer, message.member!.byteOffset, message.member!.byteLength);
    }
  } finally {
    await worker.terminate();
  }
  if (!done) throw new Error(`compressing ${path}: the archiving worker stopped before it finished`);
  table.gzBytes = gzBytes(table);
}

export interface RetentionPolicy {
  /** A closed file goes once its day ended more than this long ago. */
  maxAgeMs: number;
  /** Closed files go, oldest first, while all response files together exceed this. */
  maxTotalBytes: number;
}

const DAY_MS = 86_400_000;

/**
 * Compresses every closed response file of `dir` (all but `current`) to `.csv.gz`, then applies
 * `policy` to the compressed ones, oldest first. Returns one line per removed file, for the
 * operator's log: the API cannot know which releases a trace may still need, so every removal
 * is said out loud. A crash mid-way leaves the plain file (compressed again next time) and at
 * worst a hidden temp sibling that core's atomic writer cleans up.
 *
 *     const removed = await archiveResponseLogs("logs/api", "responses-20261202.csv", policy, Date.now());
 */
export async function archiveResponseLogs(dir: string, current: string, policy: RetentionPolicy, nowMs: number): Promise<string[]> {
  const now = RESPONSE_FILE.exec(current);
  for (const name of await readdir(dir)) {
    const m = RESPONSE_FILE.exec(name);
    // Only files older than the one being written are closed (a late line may reopen an older day: then newer ones wait).
    if (!m || m[3] || !now || order(m, now) >= 0) continue;
    // Rename-then-remove: a reader sees the plain file, or the complete .gz, or both for an instant.
    // The member table follows the .gz: a crash in between leaves a .gz read from its start.
    const table: GzipMembers = { version: 1, gzBytes: 0, members: [] };
    await writeFileAtomic(join(dir, `${name}.gz`), gzipFileInWorker(join(dir, name), table));
    await writeFileAtomic(join(dir, `${name}.gz${MEMBERS_SUFFIX}`), JSON.stringify(table));
    await rm(join(dir, name));
  }
  const files = await Promise.all((await readdir(dir)).flatMap((name) => {
    const m = RESPONSE_FILE.exec(name);
    return m ? [stat(join(dir, name)).then((s) => ({ name, day: m[1]!, part: Number(m[2] ?? 0), gz: Boolean(m[3]), size: s.size }))] : [];
  }));
  files.sort((a, b) => a.day.localeCompare(b.day) || a.part - b.part);
  let total = files.reduce((n, f) => n + f.size, 0);
  const removed: string[] = [];
  for (const f of files) {
    if (!f.gz) continue;
    const endedMs = Date.parse(`${f.day.slice(0, 4)}-${f.day.slice(4, 6)}-${f.day.slice(6)}T00:00:00Z`) + DAY_MS;
    const reason = nowMs - endedMs > policy.maxAgeMs ? `older than ${policy.maxAgeMs / DAY_MS} days`
      : total > policy.maxTotalBytes ? `response logs over ${policy.maxTotalBytes} bytes` : null;
    if (!reason) continue;
    await rm(join(dir, f.name));
    await rm(join(dir, `${f.name}${MEMBERS_SUFFIX}`), { force: true });
    total -= f.size;
    removed.push(`api: retention removed ${join(dir, f.name)} (${f.size} bytes, ${reason}); traces of its responses now find nothing, even for a release still kept`);
  }
  return removed;
}

function order(a: RegExpExecArray, b: RegExpExecArray): number {
  return a[1]!.localeCompare(b[1]!) || Number(a[2] ?? 0) - Number(b[2] ?? 0);
}
