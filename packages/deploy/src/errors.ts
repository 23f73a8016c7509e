import { GateFailedError, InputError, RecsysError } from "@recsys/core";

/**
 * One registry of the deploy package's refusals and failures. Every code is stable (tests and
 * scripts match on it); messages name the input and what to do next.
 */
export const DEPLOY_ERRORS = {
  /** Flags, options or the state file are wrong: exit 2. */
  badInput: "DEPLOY_BAD_INPUT",
  /** No platform to deploy to (no state file, no --router): exit 2. */
  noPlatform: "DEPLOY_NO_PLATFORM",
  /** A replica did not become ready, or exited while starting: exit 1. */
  replicaStart: "DEPLOY_REPLICA_START",
  /** The router's admin API refused or did not answer: exit 1. */
  router: "DEPLOY_ROUTER",
  /** Another deploy holds the platform's lock: exit 2. */
  busy: "DEPLOY_BUSY",
  /** No Docker engine answers, or it refused a request (the docker driver): exit 2. */
  docker: "DEPLOY_DOCKER",
  /** The git tree has uncommitted changes and `--allow-dirty` was not given: exit 2. */
  dirtyTree: "DEPLOY_DIRTY_TREE",
} as const;

/** A deploy option, flag or state file that cannot be used as given: exit 2. */
export function badDeployInput(where: string, why: string): InputError {
  return new InputError(DEPLOY_ERRORS.badInput, `${where}: ${why}`);
}

/** The docker driver cannot reach the engine or the image: the user starts dockerd or builds it. */
export function dockerUnavailable(what: string, why: string): InputError {
  return new InputError(DEPLOY_ERRORS.docker, `${what}: ${why}`);
}

/** Nothing to deploy to. */
export function noPlatform(why: string): InputError {
  return new InputError(DEPLOY_ERRORS.noPlatform, why);
}

/** Another deploy is running against the same state directory. */
export function platformBusy(lockPath: string, holder: string): InputError {
  return new InputError(DEPLOY_ERRORS.busy, `${lockPath}: another deploy is in progress (${holder}); wait for it, or remove the lock file if that process is gone`);
}

/** A model that failed the training gate (or sits in a `.failed` directory): exit 3, nothing started. */
export function gateRefused(modelDir: string, why: string): GateFailedError {
  return new GateFailedError(`model ${modelDir} ${why}; it can never be deployed (train a model that passes the gate)`);
}

/** A replica that did not come up: exit 1, with the tail of its log to act on. */
export class ReplicaStartError extends RecsysError {
  constructor(what: string, why: string) {
    super(DEPLOY_ERRORS.replicaStart, `replica ${what} did not start: ${why}`);
  }
}

/** The router's admin API refused a change or did not answer: exit 1. */
export class RouterAdminError extends RecsysError {
  readonly status: number;
  constructor(action: string, status: number, detail: string) {
    super(DEPLOY_ERRORS.router, `router admin ${action} failed (${status === 0 ? "no answer" : `HTTP ${status}`}): ${detail}`);
    this.status = status;
  }
}
