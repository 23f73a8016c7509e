import { createServer } from "node:net";
import { ReplicaStartError } from "./errors.ts";

/**
 * A port that was free on `host` a moment ago (the OS picks it). Another process can still
 * take it before the replica binds; the process driver retries on that.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a replica on a probed free port, again on a new one (up to three tries) when
 * `startOnce` reports that another process took the port before the replica bound it.
 */
export async function startOnFreePort<R>(releaseId: string, startOnce: () => Promise<R | "port-taken">): Promise<R> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await startOnce();
    if (result !== "port-taken") return result;
  }
  throw new ReplicaStartError(releaseId, "three free ports were taken before the replica could bind");
}
