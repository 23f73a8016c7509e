import { EXIT, InputError, RecsysError } from "@recsys/core";

/**
 * File-system and socket errors that come from what the user gave (a path they may not write,
 * a folder where a file belongs, a port in use) are bad input (exit 2), not bugs: one line naming
 * the path or port and the fix.
 */
const SYSTEM_ERRORS: Record<string, (where: string) => string> = {
  EACCES: (p) => `${p}: permission denied (EACCES); use a path you may use, or change its permissions`,
  EPERM: (p) => `${p}: operation not permitted (EPERM); use a path you may use, or change its permissions`,
  EROFS: (p) => `${p}: read-only file system (EROFS); choose a writable location`,
  EISDIR: (p) => `${p}: is a folder where a file is expected (EISDIR); give a file path`,
  ENOTDIR: (p) => `${p}: a part of this path is a file, not a folder (ENOTDIR); check the path`,
  ENOENT: (p) => `${p}: no such file or folder (ENOENT); check the path`,
  EADDRINUSE: (p) => `${p} is already in use (EADDRINUSE); stop what holds it or pass another --port`,
};

interface SystemError { code?: unknown; path?: unknown; dest?: unknown; port?: unknown; address?: unknown }

/** The user-facing error for `err`: a RecsysError as is, a mapped system error, or null (a bug). */
export function userError(err: unknown): RecsysError | null {
  if (err instanceof RecsysError) return err;
  const e = (err ?? {}) as SystemError;
  const explain = typeof e.code === "string" ? SYSTEM_ERRORS[e.code] : undefined;
  if (!explain) return null;
  const where = e.code === "EADDRINUSE"
    ? (e.port !== undefined ? `port ${String(e.port)}${typeof e.address === "string" ? ` on ${e.address}` : ""}` : null)
    : (typeof e.path === "string" ? e.path : null);
  return where === null ? null : new InputError(`RECSYS_${e.code as string}`, explain(where));
}

/**
 * Prints a failed command's error (stderr line, or with --json one JSON object on stdout:
 * `{"error":{"code","message","exit"}}` plus the error's figures) and returns its exit code.
 * Anything unexpected is a bug: exit 1, a request to report it, a stack only with RECSYS_DEBUG.
 */
export function reportFailure(name: string, err: unknown, out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, json: boolean): number {
  const known = userError(err);
  const e = err as Error | undefined;
  const message = known
    ? known.message
    : `internal error: ${e?.message ?? String(err)}. This is a bug: please report it with the command you ran`
      + (process.env.RECSYS_DEBUG ? `\n${e?.stack ?? ""}` : " (RECSYS_DEBUG=1 shows the stack trace)");
  const code = known?.code ?? "RECSYS_BUG";
  const exit = known?.exitCode ?? EXIT.bug;
  out.stderr.write(`recsys ${name}: ${message}\n`);
  if (json) out.stdout.write(JSON.stringify({ ...known?.details, error: { code, message: message.split("\n")[0], exit } }) + "\n");
  return exit;
}
