import { InputError } from "@recsys/core";

export const FEEDBACK_ERRORS = {
  badOptions: "RECSYS_FEEDBACK_BAD_OPTIONS",
  badEpsilon: "RECSYS_FEEDBACK_BAD_EPSILON",
} as const;

/** An exploration-share list that cannot be run (exit 2), with the fix. */
export function badEpsilon(message: string): InputError {
  return new InputError(FEEDBACK_ERRORS.badEpsilon, `--epsilon: ${message}; give a comma-separated list of shares 0..0.5 in steps of 0.05, such as 0,0.05,0.1`);
}
