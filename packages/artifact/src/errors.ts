import { InputError } from "@recsys/core";

/** A model directory that is missing, corrupt, truncated or not gate-approved. */
export class ArtifactError extends InputError {
  constructor(dir: string, problem: string) {
    super("RECSYS_BAD_ARTIFACT", `model artifact ${dir}: ${problem}`);
  }
}
