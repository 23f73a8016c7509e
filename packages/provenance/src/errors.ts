import { EXIT, InputError, RecsysError } from "@recsys/core";

/**
 * Exit code of `recsys provenance trace|verify` when a link of the chain no longer verifies
 * (a hash that does not match, a commit that is gone, a model nowhere to be found). Not 2: the
 * user's input was fine, the platform's records are what is wrong. Not 1: scripts must be able
 * to tell "the evidence is broken" from "the command failed".
 */
export const EXIT_BROKEN_CHAIN = EXIT.brokenChain;

export const PROVENANCE_ERRORS = {
  /** A flag, request id, release id or directory that cannot be used: exit 2. */
  badInput: "PROVENANCE_BAD_INPUT",
  /** The request id (or user and time) is in none of the response logs: exit 2. */
  notFound: "PROVENANCE_NOT_FOUND",
  /** The store holds an object whose bytes do not match its name: exit 1. */
  corruptStore: "PROVENANCE_CORRUPT_STORE",
} as const;

export function badProvenanceInput(where: string, why: string): InputError {
  return new InputError(PROVENANCE_ERRORS.badInput, `${where}: ${why}`);
}

export function notFound(what: string, fix: string): InputError {
  return new InputError(PROVENANCE_ERRORS.notFound, `${what} (${fix})`);
}

export function corruptStore(path: string, why: string): RecsysError {
  return new RecsysError(PROVENANCE_ERRORS.corruptStore, `store object ${path}: ${why}; remove it and put the source again`);
}
