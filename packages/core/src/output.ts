import { lstat, open, readFile, readdir, realpath } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { InputError } from "./errors.ts";
import { noteClaim } from "./pending.ts";

/** What a command writes; an existing target is replaced only by a writer of the same kind. */
export type OutputKind = "world" | "dataset" | "model" | "report" | "run" | "params";

/** How a writer claims its target: its kind, the inputs it must never overwrite, and --force. */
export interface OutputClaim {
  kind: OutputKind;
  /** Paths the command reads: the output may be neither one of them nor a folder holding one. */
  inputs?: ReadonlyArray<string | undefined>;
  /** Replace a file or folder recsys did not write (never an input, never a device or link). */
  force?: boolean;
}

/** The marker file inside every directory recsys writes (DVC skips it through `.dvcignore`). */
export const OUTPUT_MARKER = ".recsys-output.json";

/** The token a single-file output (an HTML report) carries in its first bytes instead of a marker file. */
export function outputToken(kind: OutputKind): string {
  return `recsys-output:${kind}`;
}

export function markerContent(kind: OutputKind): string {
  return JSON.stringify({ writtenBy: "recsys", kind }) + "\n";
}

const HEAD_BYTES = 4096;

/** The absolute path with symbolic links resolved, also for a path that does not exist yet. */
async function canonical(path: string): Promise<string> {
  let head = resolve(path), tail = "";
  for (;;) {
    const real = await realpath(head).catch(() => null);
    if (real !== null) return tail ? join(real, tail) : real;
    const up = dirname(head);
    if (up === head) return resolve(path);
    tail = tail ? join(basename(head), tail) : basename(head);
    head = up;
  }
}

async function markerKind(dir: string): Promise<string | null> {
  const text = await readFile(join(dir, OUTPUT_MARKER), "utf8").catch(() => null);
  try {
    const kind = text === null ? null : (JSON.parse(text) as { kind?: unknown }).kind;
    return typeof kind === "string" ? kind : null;
  } catch {
    return null;
  }
}

async function fileHead(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await fh.close();
  }
}

function refused(path: string, why: string, fix: string): InputError {
  return new InputError("RECSYS_OUTPUT_REFUSED", `${path}: ${why}; ${fix}`);
}

const FORCE_FIX = "choose a new path, remove it yourself, or pass --force to replace it";

/**
 * Checks that `path` may be written as a `kind` output and says whether something is there now.
 * Allowed: nothing, an empty folder (or empty file for a file output), or an earlier output of
 * the same kind; with `force`, also a foreign file or folder. Refused always: one of the
 * command's inputs or a folder holding one, a device, pipe, socket or symbolic link, and for a
 * file output a folder. Every refusal is an InputError (exit 2) naming the path and the way out.
 *
 *     await checkOutput("data/ds", "dir", { kind: "dataset", inputs: ["world/events.log"] });
 */
export async function checkOutput(path: string, form: "dir" | "file", claim: OutputClaim): Promise<{ existed: boolean }> {
  const existed = await inspect(path, form, claim);
  noteClaim(path, claim.kind, existed);
  return { existed };
}

async function inspect(path: string, form: "dir" | "file", claim: OutputClaim): Promise<boolean> {
  const target = await canonical(path);
  for (const input of claim.inputs ?? []) {
    if (input === undefined || input === "-") continue;
    const source = await canonical(input);
    if (source === target) throw refused(path, "is also this command's input", "write the output to another path");
    if (source.startsWith(target + sep)) throw refused(path, `holds this command's input ${input}`, "write the output to another path");
  }
  const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw refused(path, `cannot be inspected (${err.code})`, "check the path and its permissions");
  });
  if (info === null) return false;
  if (info.isSymbolicLink()) throw refused(path, "is a symbolic link", "give the real path it points to");
  if (!info.isFile() && !info.isDirectory()) {
    throw refused(path, "is a device, pipe or socket, not a regular file or folder", "write the output to another path (--force never replaces these)");
  }
  const what = form === "dir" ? `a ${claim.kind} folder` : `a ${claim.kind} file`;
  if (form === "file") {
    if (info.isDirectory()) throw refused(path, `is a folder, not ${what}`, "give a file path");
    if (info.size === 0 || claim.force || (await fileHead(path)).includes(outputToken(claim.kind))) return true;
    throw refused(path, `is a file recsys did not write as ${what}`, FORCE_FIX);
  }
  if (info.isFile()) {
    if (claim.force) return true;
    throw refused(path, `is a file, not ${what}`, FORCE_FIX);
  }
  const kind = await markerKind(path);
  if (kind === claim.kind || claim.force) return true;
  if (kind !== null) throw refused(path, `holds a recsys ${kind}, not a ${claim.kind}`, FORCE_FIX);
  const entries = await readdir(path);
  if (entries.length === 0) return true;
  throw refused(path, `is a folder recsys did not write (it holds ${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""})`, FORCE_FIX);
}
