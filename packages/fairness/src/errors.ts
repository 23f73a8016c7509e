import { InputError } from "@recsys/core";

/** A model, dataset or hold-out that cannot be analysed together (exit 2, with the fix). */
export function badInput(message: string): InputError {
  return new InputError("RECSYS_FAIRNESS_BAD_INPUT", message);
}

