import { InputError } from "@recsys/core";

/**
 * One registry of the router's refusals: code, HTTP status for the admin API. Every refusal
 * leaves the routing state as it was; the message names the field that is wrong.
 */
export const ROUTER_ERRORS = {
  /** The config file (or createRouter's argument) does not match the schema. */
  badConfig: { code: "ROUTER_BAD_CONFIG", status: 400 },
  /** An admin body that is not JSON, or does not match its schema. */
  badRequest: { code: "ROUTER_BAD_REQUEST", status: 400 },
  /** A change that would break a state invariant (weights not summing to 100, two canaries...). */
  badState: { code: "ROUTER_BAD_STATE", status: 400 },
  /** No or wrong Bearer token, or no token configured at all. */
  unauthorized: { code: "ROUTER_UNAUTHORIZED", status: 401 },
  unknownRoute: { code: "ROUTER_NOT_FOUND", status: 404 },
  /** promote/rollback without a canary release. */
  noCanary: { code: "ROUTER_NO_CANARY", status: 409 },
  /** A multi-process router's worker did not confirm a change in time (the change stands). */
  workersBehind: { code: "ROUTER_WORKERS_BEHIND", status: 503 },
} as const;

export type RouterErrorKind = keyof typeof ROUTER_ERRORS;

/** A refused admin call or config: an InputError (CLI exit 2) that also knows its HTTP status. */
export class RouterError extends InputError {
  readonly status: number;
  constructor(kind: RouterErrorKind, message: string) {
    super(ROUTER_ERRORS[kind].code, message);
    this.status = ROUTER_ERRORS[kind].status;
  }
}
