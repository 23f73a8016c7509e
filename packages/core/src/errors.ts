/**
 * Errors that reach a user carry a stable `code` and the exit code the CLI maps them to.
 * Messages name the input that is wrong and what to do next; the CLI never prints a stack.
 *
 * The exit-code table (the top-level README repeats it; each command's --help lists its own):
 * 0 ok; 1 a bug (please report it); 2 bad usage or input, including file-system and port errors
 * caused by what the user gave; 3 a model failed the quality gate; 4 a fairness requirement
 * failed; 5 a release was rolled back; 130 interrupted (SIGINT/SIGTERM).
 */
export const EXIT = { ok: 0, bug: 1, badInput: 2, gateFailed: 3, fairnessFailed: 4, rolledBack: 5, brokenChain: 6, interrupted: 130 } as const;
export type ExitName = keyof typeof EXIT;

/** What each exit code means, for --help and the README. */
export const EXIT_MEANING: Record<ExitName, string> = {
  ok: "success",
  bug: "a bug in recsys: please report it (RECSYS_DEBUG=1 shows the stack trace)",
  badInput: "bad usage or input: a flag, a file, a path that may not be written, a port in use",
  gateFailed: "the model failed the quality gate",
  fairnessFailed: "a fairness requirement failed",
  rolledBack: "the release was rolled back",
  brokenChain: "a provenance link no longer verifies (a hash, a file or a commit changed or is gone)",
  interrupted: "interrupted (SIGINT/SIGTERM): temporaries removed, earlier outputs intact",
};

export class RecsysError extends Error {
  readonly code: string;
  readonly exitCode: number;
  /** Figures a --json caller still wants on failure (e.g. a gate-failed model's metrics). */
  details?: Record<string, unknown>;
  constructor(code: string, message: string, exitCode: number = EXIT.bug) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad flags, bad config, bad files: exit code 2. */
export class InputError extends RecsysError {
  constructor(code: string, message: string) {
    super(code, message, EXIT.badInput);
  }
}

/** A model that failed the quality gate: exit code 3. */
export class GateFailedError extends RecsysError {
  constructor(message: string) {
    super("RECSYS_GATE_FAILED", message, EXIT.gateFailed);
  }
}

/** Formats a zod issue list as one line: `where: what; where: what`. */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((i) => `${i.path.length ? i.path.map(String).join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}
