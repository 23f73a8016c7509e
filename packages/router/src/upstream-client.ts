import { Agent, type Dispatcher } from "undici";

/** Why a try at an upstream failed before any answer was read. */
export type TryFailure = "connect" | "timeout" | "reset";

/** One upstream answer, read whole: status, end-to-end headers as sent, body bytes. */
export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Where one try's outcome goes: exactly one of the two is called, once. */
export interface TryHandler {
  onAnswer(answer: UpstreamAnswer): void;
  onFailure(err: unknown): void;
}

export interface UpstreamClient {
  /**
   * One request to `origin` + `path` on a kept-alive connection (never pipelined: one request per
   * connection at a time); the outcome goes to `handler` ({@link failureOf} classifies a failure).
   * Returns a cancel function that aborts the try (its handler then hears nothing more).
   */
  send(origin: string, method: "GET" | "HEAD", path: string, headers: string[], handler: TryHandler): () => void;
  close(): Promise<void>;
}

export interface UpstreamClientOptions {
  /** Upper bound of one try (the router cancels earlier). */
  timeoutMs: number;
  /** Largest answer body accepted; a longer one fails the try. */
  maxBodyBytes?: number;
}

/**
 * Upstream calls through undici's Agent: a keep-alive pool per upstream origin, llhttp parsing
 * every answer, and `pipelining: 1`, so an upstream that mis-frames one answer (a lying
 * Content-Length, an extra answer) can only break its own connection, never shift another
 * request's answer onto it. nginx and undici both refuse to pipeline to upstreams for that reason.
 * Tries go through undici's documented `dispatch` handler interface rather than `request()`: the
 * answer is one short line, and skipping the body stream and abort signal per try costs a
 * quarter less CPU (measured in alternating phases against one upstream).
 *
 *     const client = createUpstreamClient({ timeoutMs: 800 });
 *     const cancel = client.send("http://127.0.0.1:8083", "GET", "/recommend/42", [], { onAnswer, onFailure });
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
    send(origin, method, path, headers, handler) {
      const tryState = new DispatchedTry(handler);
      agent.dispatch({ origin, method, path, headers }, tryState);
      return () => tryState.cancel();
    },
    close: () => agent.close(),
  };
}

/** One try as undici's dispatch handler: collects the answer and reports it once. */
class DispatchedTry implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private cancelled = false;
  private status = 0;
  private headers: UpstreamAnswer["headers"] = {};
  private readonly chunks: Buffer[] = [];

  constructor(private readonly handler: TryHandler) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.controller?.abort(new Error("try cancelled"));
  }
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Cancelled while still queued for a connection.
    if (this.cancelled) controller.abort(new Error("try cancelled"));
  }
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: UpstreamAnswer["headers"]): void {
    this.status = statusCode;
    this.headers = headers;
  }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  onResponseEnd(): void {
    if (this.cancelled) return;
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.handler.onAnswer({ status: this.status, headers: this.headers, body });
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (!this.cancelled) this.handler.onFailure(err);
  }
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
