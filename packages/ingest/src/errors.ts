import { InputError } from "@recsys/core";

/**
 * Stable codes for the reasons a line is quarantined in rejects.csv. The set is a contract:
 * quality.json lists every code (zero or not) so reports from different runs line up.
 */
export const REJECT_REASONS = [
  "truncated",
  "too_long",
  "bad_time",
  "bad_user_id",
  "bad_movie_id",
  "unknown_kind",
  "bad_minute",
  "bad_rating",
  "rating_out_of_range",
  "bad_request",
  "bad_telemetry",
  "duplicate",
  "unknown_user",
  "unknown_movie",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A file or directory the caller named cannot be read or has the wrong shape: exit 2. */
export function unreadable(path: string, why: string): InputError {
  return new InputError("RECSYS_INGEST_UNREADABLE", `${path}: ${why}`);
}

/** A side file (users, movies, telemetry header) that cannot be used as given: exit 2. */
export function badSideFile(where: string, why: string): InputError {
  return new InputError("RECSYS_INGEST_BAD_SIDE_FILE", `${where}: ${why}`);
}

/** The --movielens directory holds neither known layout: exit 2. */
export function unknownLayout(dir: string): InputError {
  return new InputError(
    "RECSYS_INGEST_UNKNOWN_LAYOUT",
    `${dir}: no MovieLens files found (expected u.data + u.item for ml-100k, or ratings.csv + movies.csv for ml-latest)`,
  );
}

/** Not one line of the input was usable (an empty file, random bytes, one endless line): exit 2. */
export function nothingAccepted(input: string, why: string): InputError {
  return new InputError("RECSYS_INGEST_NOTHING_ACCEPTED", `${input}: no line was accepted (${why}); check that it is the event stream (line formats: see packages/ingest/README.md)`);
}

/** More of the input was rejected than --max-reject-share allows: exit 2, nothing written. */
export function tooManyRejects(input: string, why: string, max: number): InputError {
  return new InputError(
    "RECSYS_INGEST_TOO_MANY_REJECTS",
    `${input}: ${why}, above --max-reject-share ${max}; check the input, or raise --max-reject-share to keep such a dataset`,
  );
}

/** A --max-reject-share outside 0..1: exit 2. */
export function badMaxRejectShare(value: number): InputError {
  return new InputError("RECSYS_USAGE", `--max-reject-share must be a share from 0 to 1 (got ${value})`);
}
