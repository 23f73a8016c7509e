import { InputError } from "@recsys/core";

/** Error codes of the simulator; every one is an InputError (CLI exit 2). */
export const SIM_ERRORS = {
  badOptions: "RECSYS_SIM_BAD_OPTIONS",
  unknownId: "RECSYS_SIM_UNKNOWN_ID",
  badTruth: "RECSYS_SIM_BAD_TRUTH",
} as const;

export function unknownIdError(kind: "user" | "movie", id: number | string): InputError {
  return new InputError(SIM_ERRORS.unknownId, `unknown ${kind} id ${JSON.stringify(id)}: it is not part of this simulated world`);
}
