import { InputError, RecsysError } from "@recsys/core";

/**
 * Coded errors of the API process. Request-level problems are answered over HTTP (400, 401,
 * 403, 404, 422, 503, see README) and never thrown out of a handler; the start-up ones here
 * reach the CLI (exit 2).
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

export function badModelsRoot(dir: string, why: string): InputError {
  return new InputError("RECSYS_API_BAD_MODELS_ROOT", `models root ${dir}: ${why} (point --models-root / RECSYS_MODELS_ROOT at the directory that holds the model directories)`);
}

/**
 * A reload asked for a directory outside the models root, or one that does not resolve. The
 * message is the same for every such path, so an answer never tells whether a file exists.
 */
export function modelOutsideRoot(): RecsysError {
  return new RecsysError("RECSYS_API_MODEL_OUTSIDE_ROOT", `"model" must name an existing model directory under the server's models root (--models-root), relative to it or absolute`);
}

/** A model directory under the root that did not load; the detail goes to the server's own report only. */
export const NOT_LOADABLE = "not a loadable model directory under the models root (corrupt, truncated or gate-failed; the server's log has the reason); the current model keeps serving";
