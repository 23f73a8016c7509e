import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How long a client may take, per connection (see RouterConfigSchema.clientTimeouts). */
export interface ClientTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

/** Header fields one request may carry; more is refused with 431 rather than cut off silently. */
export const MAX_HEADER_FIELDS = 64;
/** Longest request target; a longer one gets 414 (a valid one is a few dozen bytes). */
export const MAX_TARGET_BYTES = 2048;
/** Whole request head (Node's limit, counted by llhttp): past it Node answers 431. */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * A Node http server (llhttp) with the limits a public listener needs: header and request
 * timeouts checked often enough to fire near their value, a bounded head, at most
 * MAX_HEADER_FIELDS fields, one Host, HTTP/1.x only, and a bounded target. Malformed requests
 * (bare LF, bad framing, ...) get Node's own 400 before `handle` ever runs. `takesBodies: false`
 * (the public listener) means no request there is invited to send a body.
 */
export function createHardenedServer(timeouts: ClientTimeouts, handle: (req: IncomingMessage, res: ServerResponse) => void, opts: { takesBodies: boolean }): Server {
  const server = createServer({
    maxHeaderSize: MAX_HEAD_BYTES,
    requireHostHeader: true,
    keepAliveTimeout: timeouts.keepAliveMs,
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    // Node checks the two timeouts above on this period (default 30 s, far too coarse).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersMs / 4))),
  }, onRequest);
  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const refusal = refusalOf(req);
    if (refusal === null) return handle(req, res);
    res.shouldKeepAlive = false;
    sendText(res, refusal.status, refusal.reason);
    req.resume();
  }
  // A listener that takes no bodies answers `Expect: 100-continue` with its final answer (a
  // refusal if a body was announced), as nginx does, instead of Node's automatic 100 Continue.
  if (!opts.takesBodies) server.on("checkContinue", onRequest);
  // One beyond the limit so that an over-long list is seen (Node drops fields past this count).
  server.maxHeadersCount = MAX_HEADER_FIELDS + 1;
  return server;
}

function refusalOf(req: IncomingMessage): { status: number; reason: string } | null {
  if (req.httpVersionMajor !== 1) return { status: 505, reason: "only HTTP/1.x is served" };
  if (req.rawHeaders.length > 2 * MAX_HEADER_FIELDS) return { status: 431, reason: `more than ${MAX_HEADER_FIELDS} header fields` };
  if ((req.url ?? "").length > MAX_TARGET_BYTES) return { status: 414, reason: `request target longer than ${MAX_TARGET_BYTES} bytes` };
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].length === 4 && req.rawHeaders[i].toLowerCase() === "host") hosts++;
  if (hosts !== 1) return { status: 400, reason: "exactly one Host field is needed" };
  return null;
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

/**
 * Stops taking connections, lets requests in flight finish for up to `graceMs` (idle kept-alive
 * connections close at once), then closes whatever is left.
 */
export async function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(sweep);
  clearTimeout(deadline);
}

/** The loopback URL for a bound host (a wildcard bind is reached on 127.0.0.1). */
export function urlFor(host: string, port: number): string {
  const h = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
