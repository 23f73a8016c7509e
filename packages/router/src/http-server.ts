import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpLimits } from "@recsys/core";

/** How long a client may take, per connection (see RouterConfigSchema.clientTimeouts). */
export interface ClientTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

/**
 * Core's listener limits for the router's two listeners: the configured timeouts, checked every
 * quarter of the header timeout (at most every second); at most 64 header fields, a 2 KiB target
 * (a valid one is a few dozen bytes) and Node's 16 KiB head. `takesBodies`: the admin listener's
 * POSTs do, the public one's GETs do not.
 */
export function routerLimits(t: ClientTimeouts, takesBodies: boolean): HttpLimits {
  return {
    headersTimeoutMs: t.headersMs,
    requestTimeoutMs: t.requestMs,
    keepAliveTimeoutMs: t.keepAliveMs,
    connectionsCheckingIntervalMs: Math.max(50, Math.min(1000, Math.floor(t.headersMs / 4))),
    maxHeaderSize: 16 * 1024,
    maxHeadersCount: 64,
    maxTargetLength: 2048,
    takesBodies,
  };
}

/** A whole plain-text answer in one write. */
export function sendText(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Listens and resolves the bound port (a busy port rejects with Node's EADDRINUSE error). */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The loopback URL for a bound host (a wildcard bind is reached on 127.0.0.1). */
export function urlFor(host: string, port: number): string {
  const h = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/** A refusal of the router's own; the connection closes when the request may still have a body on the way. */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  if (announcesBody(req)) res.shouldKeepAlive = false;
  req.resume();
  sendText(res, status, reason);
}

/** Whether a request says a body follows (a non-zero Content-Length, or any Transfer-Encoding). */
export function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}
