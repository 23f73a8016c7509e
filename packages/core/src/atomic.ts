import { mkdir, open, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { InputError } from "./errors.ts";
import { checkOutput, markerContent, outputToken, OUTPUT_MARKER, type OutputClaim } from "./output.ts";
import { forgetWrite, noteWrite, type PendingWrite } from "./pending.ts";

/**
 * Temporaries are `.NAME.tmp-PID-HEX` (the new content) and `.NAME.old-PID-HEX` (the previous
 * directory, moved aside for the swap): the pid lets a later run prove a leftover is from a dead
 * writer of this target.
 */
function sibling(path: string, role: "tmp" | "old"): string {
  return join(dirname(path), `.${basename(path)}.${role}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes temporaries of `path` left by writers that were killed (SIGKILL, power loss): only
 * names of our pattern whose pid is no longer alive. A moved-aside old directory goes back in
 * place when the writer died before the new one arrived.
 */
async function removeStaleSiblings(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(tmp|old)-(\d+)-[0-9a-f]{8}$/.exec(name.slice(prefix.length)) : null;
    if (!m || isAlive(Number(m[2]))) continue;
    const full = join(dirname(path), name);
    const restore = m[1] === "old" && (await stat(path).then(() => false, () => true));
    await (restore ? rename(full, path) : rm(full, { recursive: true, force: true }));
  }
}

const WRITE_TRIES = 3;

function unwritable(path: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException)?.code ?? "unknown error";
  return new InputError("RECSYS_OUTPUT_UNWRITABLE", `${path}: cannot write here (${code}); choose a writable location for the output`);
}

/**
 * mkdir -p with a bounded number of tries. Node's own recursive mkdir retries forever where a
 * parent exists but refuses children (`/proc`), spinning at 100% CPU; here that fails fast.
 */
async function ensureDir(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && (await stat(dir).then((s) => s.isDirectory(), () => false))) return;
      if (code !== "ENOENT" || attempt >= WRITE_TRIES || dirname(dir) === dir) throw unwritable(dir, err);
      await ensureDir(dirname(dir));
    }
  }
}

/** Runs one file-system step of a write; its failures become a coded input error naming `path`. */
async function step<T>(path: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw err instanceof InputError ? err : unwritable(path, err);
  }
}

async function prepare(path: string, form: "dir" | "file", claim: OutputClaim | undefined): Promise<PendingWrite> {
  // First, as it may put a dead writer's moved-aside target back in place.
  await removeStaleSiblings(path);
  const existed = claim ? (await checkOutput(path, form, claim)).existed : await stat(path).then(() => true, () => false);
  await ensureDir(dirname(path));
  return noteWrite({ target: path, kind: claim?.kind ?? null, existed, tmp: sibling(path, "tmp"), aside: null });
}

/**
 * Writes a file so readers see either the old or the new content, never a torn one: write a
 * sibling temp file, fsync it, rename it over the target. With a `claim` (a command's own
 * output), the target is checked first (see `checkOutput`) and `data` must carry
 * `outputToken(kind)` in its first bytes, so a later run recognises the file as its own.
 * `data` may be an async iterable for content too large to hold at once. `mode` is the file's
 * permission from its first byte on (0o600 for a secret: never readable by others, not even
 * as the temp file).
 *
 *     await writeFileAtomic("out/report.html", html, { kind: "report", inputs: [eventsFile] });
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | AsyncIterable<Uint8Array>, claim?: OutputClaim, mode = 0o666): Promise<void> {
  if (claim && !(typeof data === "string" && data.slice(0, 4096).includes(outputToken(claim.kind)))) {
    throw new Error(`writeFileAtomic(${path}): a ${claim.kind} output must carry outputToken("${claim.kind}") in its first 4 KiB`);
  }
  const w = await prepare(path, "file", claim);
  try {
    const fh = await step(path, () => open(w.tmp, "w", mode));
    try {
      await step(path, () => writeFile(fh, data));
      // Without fsync a crash after the rename can leave the new name with empty content.
      await step(path, () => fh.sync());
    } finally {
      await fh.close();
    }
    await step(path, () => rename(w.tmp, path));
    forgetWrite(w, "written");
  } catch (err) {
    await rm(w.tmp, { force: true });
    forgetWrite(w, "failed");
    throw err;
  }
}

/**
 * Builds a directory in a temp sibling through `fill`, then renames it into place, replacing the
 * previous one. A crash mid-way leaves only `.NAME.tmp-*` siblings (removed by the next run),
 * never a half directory. The `claim` guards the target (see `checkOutput`); the marker file
 * (`OUTPUT_MARKER`) is added after `fill`, so hashes `fill` computes do not include it.
 *
 *     await writeDirAtomic("data/ds", async (tmp) => { ... }, { kind: "dataset", inputs: [events] });
 */
export async function writeDirAtomic(path: string, fill: (tmpDir: string) => Promise<void>, claim: OutputClaim): Promise<void> {
  const w = await prepare(path, "dir", claim);
  try {
    await step(path, () => mkdir(w.tmp));
    await fill(w.tmp);
    await step(path, () => writeFile(join(w.tmp, OUTPUT_MARKER), markerContent(claim.kind)));
    // rename() cannot replace a non-empty directory: move the old one aside first.
    const aside = sibling(path, "old");
    if (w.existed) {
      await step(path, () => rename(path, aside));
      w.aside = aside;
    }
    await step(path, () => rename(w.tmp, path));
    forgetWrite(w, "written");
    if (w.aside) await rm(w.aside, { recursive: true, force: true });
  } catch (err) {
    if (w.aside) await rename(w.aside, path).catch(() => undefined);
    await rm(w.tmp, { recursive: true, force: true });
    forgetWrite(w, "failed");
    throw err;
  }
}

/**
 * Claims a directory that a long run fills piece by piece (the main job's work dir): checks it
 * like writeDirAtomic does, creates it, and marks it, so a later run knows it may reuse it.
 *
 *     await claimOutputDir("runs/latest", { kind: "run" });
 */
export async function claimOutputDir(path: string, claim: OutputClaim): Promise<void> {
  await checkOutput(path, "dir", claim);
  await ensureDir(path);
  await step(path, () => writeFile(join(path, OUTPUT_MARKER), markerContent(claim.kind)));
}
