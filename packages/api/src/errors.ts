import { InputError } from "@recsys/core";

/**
 * Coded errors of the API process. Request-level problems are answered over HTTP (400, 401,
 * 404, 422, 503, see README) and never thrown out of a handler; these reach the CLI (exit 2).
 */
export function portInUse(host: string, port: number): InputError {
  return new InputError("RECSYS_API_PORT_IN_USE", `cannot listen on ${host}:${port}: the port is in use (pick another with --port, or 0 for any free port)`);
}

export function cannotListen(host: string, port: number, why: string): InputError {
  return new InputError("RECSYS_API_CANNOT_LISTEN", `cannot listen on ${host}:${port}: ${why} (check --host and --port)`);
}

export function logDirUnusable(dir: string, why: string): InputError {
  return new InputError("RECSYS_API_BAD_LOG_DIR", `cannot write the response log in ${dir}: ${why} (check --log-dir / RECSYS_LOG_DIR)`);
}
