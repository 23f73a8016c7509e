import { Agent } from "undici";

/** Why a try at an upstream failed before any answer was read. */
export type TryFailure = "connect" | "timeout" | "reset";

/** One upstream answer, read whole: status, end-to-end headers as sent, body bytes. */
export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface UpstreamClient {
  /**
   * One request to `origin` + `path` on a kept-alive connection (never pipelined: one request per
   * connection at a time). Rejects with the undici error; {@link failureOf} classifies it.
   */
  send(origin: string, method: "GET" | "HEAD", path: string, headers: string[], signal: AbortSignal): Promise<UpstreamAnswer>;
  close(): Promise<void>;
}

export interface UpstreamClientOptions {
  /** Upper bound of one try (the router aborts earlier through the signal). */
  timeoutMs: number;
  /** Largest answer body accepted; a longer one fails the try. */
  maxBodyBytes?: number;
}

/**
 * Upstream calls through undici's Agent: a keep-alive pool per upstream origin, llhttp parsing
 * every answer, and `pipelining: 1`, so an upstream that mis-frames one answer (a lying
 * Content-Length, an extra answer) can only break its own connection, never shift another
 * request's answer onto it. nginx and undici both refuse to pipeline to upstreams for that reason.
 *
 *     const client = createUpstreamClient({ timeoutMs: 800 });
 *     const a = await client.send("http://127.0.0.1:8083", "GET", "/recommend/42", [], signal);
 */
export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  const agent = new Agent({
    pipelining: 1,
    connect: { timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    maxResponseSize: opts.maxBodyBytes ?? 1 << 20,
  });
  return {
    async send(origin, method, path, headers, signal) {
      const res = await agent.request({ origin, method, path, headers, signal });
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, headers: res.headers, body };
    },
    close: () => agent.close(),
  };
}

/**
 * The kind of a failed try from undici's error: a refused connect means the process is gone,
 * a timeout is a slow upstream, anything else (closed mid-answer, an answer that is not HTTP, too
 * large) broke the connection.
 */
export function failureOf(err: unknown): { kind: TryFailure; detail: string } {
  const e = err as { code?: string; message?: string };
  const detail = e.code ?? e.message ?? String(err);
  if (e.code === "ECONNREFUSED") return { kind: "connect", detail };
  if (e.code === "UND_ERR_CONNECT_TIMEOUT" || e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT") return { kind: "timeout", detail };
  return { kind: "reset", detail };
}
