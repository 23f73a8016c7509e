import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** What a listener allows a client (the API's config and the router's `clientTimeouts` map onto it). */
export interface HttpLimits {
  /** From a request's first byte to the end of its head; past it Node answers 408 and closes. */
  headersTimeoutMs: number;
  /** From a request's first byte to the end of its body. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection between requests. */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above (its default, 30 s, is far too coarse). */
  connectionsCheckingIntervalMs: number;
  /** Whole request head, counted by llhttp; past it Node answers 431. */
  maxHeaderSize: number;
  /** Header lines; more get 431 (Node alone would drop the excess silently). */
  maxHeadersCount: number;
  /** Request target length; a longer one gets 414. */
  maxTargetLength: number;
  /**
   * false: no request is invited to send a body, so `Expect: 100-continue` gets the final answer
   * (a refusal if a body was announced), as nginx does, instead of Node's automatic 100 Continue.
   */
  takesBodies: boolean;
}

/**
 * A Node http server (llhttp) with the limits a listener facing clients needs, shared by the API
 * and the router. Node itself answers 400 to a malformed head (bare-LF line endings, garbage
 * request lines, no Host), 431 to a head over `maxHeaderSize` and 408 to a slow head or request;
 * the checks Node lacks run here before `handle`: 414 for a long target, 431 for too many header
 * lines, and what nginx refuses but Node accepts: 505 for an HTTP version other than 1.x, 400 for
 * two Host lines. Refusals close the connection, so nothing pipelined behind them is read.
 *
 *     const server = createHardenedServer(limits, (req, res) => res.end("ok"));
 */
export function createHardenedServer(limits: HttpLimits, handle: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const refusal = refusalOf(req, limits);
    if (refusal === null) return handle(req, res);
    const body = `${refusal.why}\n`;
    res.writeHead(refusal.status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body), connection: "close" });
    res.end(body);
    req.resume();
  };
  const server = createServer({
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    requireHostHeader: true,
    insecureHTTPParser: false,
  }, onRequest);
  if (!limits.takesBodies) server.on("checkContinue", onRequest);
  // One line more than allowed is kept, so the listener can tell "at the limit" from "over it".
  server.maxHeadersCount = limits.maxHeadersCount + 1;
  return server;
}

function refusalOf(req: IncomingMessage, limits: HttpLimits): { status: number; why: string } | null {
  if (req.url!.length > limits.maxTargetLength) return { status: 414, why: `request target over ${limits.maxTargetLength} characters` };
  if (req.rawHeaders.length > 2 * limits.maxHeadersCount) return { status: 431, why: `more than ${limits.maxHeadersCount} header lines` };
  if (req.httpVersionMajor !== 1) return { status: 505, why: "only HTTP/1.0 and HTTP/1.1 are served" };
  if (hostLines(req.rawHeaders) > 1) return { status: 400, why: "more than one Host header" };
  return null;
}

/** Node keeps the first of several Host lines; a proxy in front may have read another, so refuse. */
function hostLines(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === "host") n++;
  return n;
}

/**
 * Stops taking connections, lets requests in flight finish for up to `graceMs` (idle kept-alive
 * connections close at once, busy ones after their answer), then closes whatever is left.
 */
export async function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(sweep);
  clearTimeout(deadline);
}
