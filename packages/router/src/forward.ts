import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import type { RouterMetrics } from "./metrics.ts";
import type { PopularList } from "./popular.ts";
import { chooseTarget, releaseFor, type LiveRelease, type RouteTable, type Target } from "./table.ts";
import { recordFailure, recordSuccess, type FailureKind } from "./upstreams.ts";

/** What a finished recommendation request reports to the logs. */
export interface Served {
  userId: string;
  status: number;
  /** The answer's ids (comma-separated) on 200, else an error text. */
  result: string;
  latencyMs: number;
  /** Release id that answered, or "fallback" for the popular list. */
  release: string;
  upstream: string;
  attempts: number;
}

export interface ForwarderDeps {
  table: () => RouteTable;
  /** undici dispatcher (an Agent: one keep-alive pool per upstream origin). */
  dispatcher: Dispatcher;
  budgetMs: number;
  attemptTimeoutMs: number;
  ejectAfter: number;
  metrics: RouterMetrics;
  popular: PopularList;
  nowMs: () => number;
  onServed: (served: Served) => void;
}

/** A budget slice too small to be worth a second try. */
const MIN_TRY_MS = 20;
/** Kept back from the budget to write the fallback answer in time. */
const RESERVE_MS = 10;
const FALLBACK = "fallback";
/**
 * Hop-by-hop headers (RFC 9110 7.6.1), dropped both ways, and the length, which each side sets
 * itself (the router forwards no request body). `expect` would make undici refuse the request.
 */
const DROPPED = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length", "expect", "x-release"]);
const ownHeaders = (): OutgoingHttpHeaders => ({ "content-type": "text/plain; charset=utf-8" });

/** The caller's end-to-end headers (e.g. X-Request-Id), as the flat list undici takes. */
function requestHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!DROPPED.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  return out;
}

/** The upstream's end-to-end headers: provenance headers like a commit id pass through. */
function responseHeaders(parsed: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in parsed) if (!DROPPED.has(name)) out[name] = parsed[name];
  return out;
}

interface Exchange extends Target {
  req: IncomingMessage;
  res: ServerResponse;
  headers: string[];
  userId: string | null;
  assigned: LiveRelease;
  table: RouteTable;
  startedAt: number;
  attempts: number;
  timer: NodeJS.Timeout | null;
  done: boolean;
  /** The last 5xx answer, passed on if nothing better turns up. */
  lastStatus: number;
  lastBody: string;
  lastHeaders: OutgoingHttpHeaders;
  lastFailure: string;
}

/**
 * The request path: pick the user's release (sticky bucket), a healthy upstream in it, and send
 * the GET through undici's keep-alive pools. A try that cannot connect, times out, is reset, or
 * answers 5xx is retried once on another healthy upstream within the caller's budget; when
 * nothing answers, /recommend gets the last good popular list instead of an error. Answers are
 * buffered (one short line) so the router can log ids and decide on a retry before the client
 * sees a byte, and are written with one `end`.
 *
 *     const forward = createForwarder(deps);
 *     forward(req, res, "42"); // GET /recommend/42
 */
export function createForwarder(deps: ForwarderDeps): (req: IncomingMessage, res: ServerResponse, userId: string | null) => void {
  /** One try at one upstream, as an undici dispatch handler (one small object per try). */
  class Try implements Dispatcher.DispatchHandler {
    controller: Dispatcher.DispatchController | null = null;
    status = 0;
    headers: OutgoingHttpHeaders = {};
    body: Buffer | null = null;
    constructor(readonly ex: Exchange, readonly attempt: number, readonly timeoutMs: number) {}
    get stale(): boolean { return this.ex.done || this.attempt !== this.ex.attempts; }
    onRequestStart(controller: Dispatcher.DispatchController): void {
      // A try that timed out while queued for a connection is dropped before it is sent.
      if (this.stale) controller.abort(new Error("try abandoned"));
      else this.controller = controller;
    }
    onResponseStart(_: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
      this.status = status;
      this.headers = responseHeaders(headers);
    }
    onResponseData(_: Dispatcher.DispatchController, chunk: Buffer): void {
      // One short line, nearly always one chunk: no string decoder, one toString at the end.
      this.body = this.body === null ? chunk : Buffer.concat([this.body, chunk]);
    }
    onResponseEnd(): void {
      if (!this.stale) answered(this.ex, this.status, this.headers, this.body === null ? "" : this.body.toString("utf8"));
    }
    onResponseError(_: Dispatcher.DispatchController, err: Error): void {
      const code = (err as NodeJS.ErrnoException).code;
      failed(this.ex, this.attempt, code === "ECONNREFUSED" ? "connect" : "reset", code ?? err.message);
    }
  }

  const timedOut = (t: Try): void => {
    failed(t.ex, t.attempt, "timeout", `no answer in ${Math.round(t.timeoutMs)} ms`);
    t.controller?.abort(new Error("try timed out"));
  };

  const tryOnce = (ex: Exchange): void => {
    const attempt = ++ex.attempts;
    const left = ex.startedAt + deps.budgetMs - RESERVE_MS - performance.now();
    const t = new Try(ex, attempt, Math.max(1, Math.min(deps.attemptTimeoutMs, left)));
    ex.timer = setTimeout(timedOut, t.timeoutMs, t);
    deps.dispatcher.dispatch({ origin: ex.upstream!.url, path: ex.req.url!, method: ex.req.method as "GET" | "HEAD", headers: ex.headers }, t);
  };

  const failed = (ex: Exchange, attempt: number, kind: FailureKind, detail: string): void => {
    if (ex.done || attempt !== ex.attempts) return;
    clearTimeout(ex.timer!);
    // The caller hung up: nobody to answer, and no evidence against the upstream.
    if (ex.res.destroyed) { ex.done = true; return; }
    const up = ex.upstream!;
    recordFailure(up, kind, deps.ejectAfter, detail);
    deps.metrics.upstreamFailure(ex.servedBy.id, up.url, kind);
    ex.lastFailure = `${kind} at ${up.url} (${detail})`;
    const left = ex.startedAt + deps.budgetMs - RESERVE_MS - performance.now();
    if (ex.attempts < 2 && left >= MIN_TRY_MS && chooseTarget(ex.table, ex.assigned, up, ex)) {
      deps.metrics.retries.inc();
      tryOnce(ex);
    } else {
      giveUp(ex);
    }
  };

  const answered = (ex: Exchange, status: number, headers: OutgoingHttpHeaders, body: string): void => {
    if (status >= 500) {
      ex.lastStatus = status;
      ex.lastBody = body;
      ex.lastHeaders = headers;
      failed(ex, ex.attempts, "status", `status ${status}`);
      return;
    }
    clearTimeout(ex.timer!);
    recordSuccess(ex.upstream!);
    // The caller hung up while the try was out: nobody to answer, nothing served to log.
    if (ex.res.destroyed) { ex.done = true; return; }
    if (status === 200 && ex.userId !== null) {
      body = body.trim();
      deps.popular.record(body);
    }
    finish(ex, status, headers, body, ex.servedBy.id);
  };

  const giveUp = (ex: Exchange): void => {
    const popular = ex.userId === null ? null : deps.popular.current(deps.nowMs());
    if (popular !== null) {
      deps.metrics.fallbacks.inc();
      finish(ex, 200, ownHeaders(), popular, FALLBACK);
    } else if (ex.lastStatus) {
      finish(ex, ex.lastStatus, ex.lastHeaders, ex.lastBody, ex.servedBy.id);
    } else {
      finish(ex, 502, ownHeaders(), `no upstream answered: ${ex.lastFailure || "none healthy"}`, FALLBACK);
    }
  };

  /** `headers` is this exchange's own object: the length and X-Release are set on it. */
  const finish = (ex: Exchange, status: number, headers: OutgoingHttpHeaders, body: string, release: string): void => {
    ex.done = true;
    const { res } = ex;
    if (!res.headersSent && !res.destroyed) {
      headers["content-length"] = Buffer.byteLength(body);
      headers["x-release"] = release;
      res.writeHead(status, headers);
      res.end(body);
    }
    if (ex.userId === null) return;
    const latencyMs = performance.now() - ex.startedAt;
    const series = release === FALLBACK ? deps.metrics.forRelease(FALLBACK) : ex.servedBy.series;
    series.requests.inc();
    if (status >= 500) series.errors.inc();
    series.latency.observe(latencyMs / 1000);
    deps.onServed({
      userId: ex.userId,
      status,
      result: status === 200 ? body : body.replace(/[\r\n]+/g, " ").slice(0, 200) || `status ${status}`,
      latencyMs,
      release,
      upstream: release === FALLBACK ? "" : ex.upstream!.url,
      attempts: ex.attempts,
    });
  };

  return (req, res, userId) => {
    const table = deps.table();
    const assigned = releaseFor(table, userId);
    const ex: Exchange = {
      req, res, headers: requestHeaders(req.rawHeaders), userId, assigned, table, servedBy: assigned, upstream: null,
      startedAt: performance.now(), attempts: 0, timer: null, done: false,
      lastStatus: 0, lastBody: "", lastHeaders: {}, lastFailure: "",
    };
    if (chooseTarget(table, assigned, null, ex)) tryOnce(ex);
    else giveUp(ex);
  };
}
