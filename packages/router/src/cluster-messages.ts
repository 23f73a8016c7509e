import type { Release } from "./state.ts";

/**
 * What the primary of a multi-process router tells its workers (over cluster IPC, in order).
 * `down` lists the upstream URLs out of rotation; every other one is in.
 */
export type ToWorker =
  | { t: "state"; generation: number; releases: Release[]; down: string[] }
  | { t: "health"; down: string[] }
  | { t: "listen"; port: number; host: string }
  | { t: "close" };

/** What a worker tells its primary. `log` carries whole lines, each ending in a newline. */
export type ToPrimary =
  /** The worker listens for messages (sent before this one would be lost). */
  | { t: "ready" }
  | { t: "applied"; generation: number }
  | { t: "listening"; port: number }
  | { t: "listenFailed"; code: string; message: string }
  | { t: "log"; stream: "events" | "servedBy"; bytes: Uint8Array }
  | { t: "eject"; url: string; error: string }
  | { t: "popular"; list: string }
  /** The worker's last message: everything it logged was sent before it. */
  | { t: "closed" };

/** The env var that hands a worker its (already validated) router config. */
export const WORKER_CONFIG_ENV = "RECSYS_ROUTER_WORKER_CONFIG";
