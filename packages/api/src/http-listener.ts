import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ApiConfig } from "./config.ts";

/**
 * The API's Node HTTP server (llhttp) with the config's limits. Node itself answers 400 to a
 * malformed head (bare-LF line endings, garbage request lines, no Host), 431 to a head over
 * `maxHeaderSize` and 408 to a head or request slower than its timeout; two checks Node lacks
 * run here before any route: 414 for a target over `maxTargetLength`, 431 for more than
 * `maxHeadersCount` header lines (Node would silently drop the excess), and what nginx refuses
 * but Node accepts: 505 for an HTTP version other than 1.x, 400 for two Host lines. Refusals
 * close the connection, so nothing pipelined behind them is read.
 *
 *     const server = createHardenedServer(config, (req, res) => res.end("ok"));
 */
export function createHardenedServer(config: ApiConfig, handle: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({
    maxHeaderSize: config.maxHeaderSize,
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: config.connectionsCheckingIntervalMs,
    requireHostHeader: true,
    insecureHTTPParser: false,
  }, (req, res) => {
    if (req.url!.length > config.maxTargetLength) return refuse(res, 414, `request target over ${config.maxTargetLength} characters`);
    if (req.rawHeaders.length > 2 * config.maxHeadersCount) return refuse(res, 431, `more than ${config.maxHeadersCount} header lines`);
    if (req.httpVersionMajor !== 1) return refuse(res, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    if (hostLines(req.rawHeaders) > 1) return refuse(res, 400, "more than one Host header");
    handle(req, res);
  });
  // One line more than allowed is kept, so the listener can tell "at the limit" from "over it".
  server.maxHeadersCount = config.maxHeadersCount + 1;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  return server;
}

/** Node keeps the first of several Host lines; a proxy in front may have read another, so refuse. */
function hostLines(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === "host") n++;
  return n;
}

function refuse(res: ServerResponse, status: number, why: string): void {
  const body = `${why}\n`;
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(body.length), Connection: "close" });
  res.end(body);
}
