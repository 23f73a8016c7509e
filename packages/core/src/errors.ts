/**
 * Errors that reach a user carry a stable `code` and the exit code the CLI maps them to.
 * Messages name the input that is wrong and what to do next; the CLI never prints a stack.
 */
/** 4: a fairness requirement failed (`recsys fairness report --check`), so CI and deploy can gate on it. */
export const EXIT = { ok: 0, badInput: 2, gateFailed: 3, fairnessFailed: 4, failure: 1 } as const;

export class RecsysError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode: number = EXIT.failure) {
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
