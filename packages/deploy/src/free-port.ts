import { createServer } from "node:net";

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
