import { performance } from "node:perf_hooks";
import type { Reply } from "./http-front.ts";
import type { RouterMetrics } from "./metrics.ts";
import type { PopularList } from "./popular.ts";
import { chooseTarget, releaseFor, type LiveRelease, type RouteTable, type Target } from "./table.ts";
import type { TryHandler, UpstreamPool } from "./upstream-pool.ts";
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
  pool: UpstreamPool;
  budgetMs: number;
  attemptTimeoutMs: number;
  ejectAfter: number;
  metrics: RouterMetrics;
  popular: PopularList;
  nowMs: () => number;
  onServed: (served: Served) => void;
}

/** A forwarded GET or HEAD: what the client asked, where the answer goes, and for which user. */
export interface ForwardRequest {
  method: "GET" | "HEAD";
  target: string;
  /** The client's headers, `[name, value, ...]` with names in lower case. */
  headers: readonly string[];
  /** The id from `/recommend/<id>`, or null for any other GET (served by the stable release). */
  userId: string | null;
}

/** How often tries are checked against their deadlines (their timeouts' resolution). */
const DEADLINE_CHECK_MS = 5;
/** A budget slice too small to be worth a second try. */
const MIN_TRY_MS = 20;
/** Kept back from the budget to write the fallback answer in time. */
const RESERVE_MS = 10;
const FALLBACK = "fallback";
/**
 * Hop-by-hop headers (RFC 9110 7.6.1), dropped both ways; the length and Host, which each hop
 * sets itself (the router forwards no request body); and X-Release, which only the router sets.
 */
const DROPPED = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length", "expect", "host", "x-release"]);
const OWN_HEADERS: readonly string[] = ["content-type", "text/plain; charset=utf-8"];

/** The caller's end-to-end headers (e.g. X-Request-Id), as request lines for the upstream. */
function requestHeaderLines(headers: readonly string[]): string {
  let out = "";
  for (let i = 0; i < headers.length; i += 2) if (!DROPPED.has(headers[i])) out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return out;
}

/** The upstream's end-to-end headers: provenance headers like a commit id pass through. */
function responseHeaders(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!DROPPED.has(headers[i])) out.push(headers[i], headers[i + 1]);
  return out;
}

interface Exchange extends Target {
  request: ForwardRequest;
  reply: Reply;
  headerLines: string;
  assigned: LiveRelease;
  table: RouteTable;
  startedAt: number;
  attempts: number;
  done: boolean;
  /** The last 5xx answer, passed on if nothing better turns up. */
  lastStatus: number;
  lastBody: string;
  lastHeaders: string[];
  lastFailure: string;
}

/**
 * The request path: pick the user's release (sticky bucket), a healthy upstream in it, and send
 * the request on a kept-alive upstream connection. A try that cannot connect, times out, is
 * broken off, or answers 5xx is retried once on another healthy upstream within the caller's
 * budget; when nothing answers, /recommend gets the last good popular list instead of an
 * error. Answers are read whole (one short line) so the router can log ids and decide on a
 * retry before the client sees a byte.
 *
 *     const forward = createForwarder(deps);
 *     forward({ method: "GET", target: "/recommend/42", headers: [], userId: "42" }, reply);
 */
export function createForwarder(deps: ForwarderDeps): (request: ForwardRequest, reply: Reply) => void {
  /** One try at one upstream (one small object per try). */
  class Try implements TryHandler {
    cancel: (() => void) | null = null;
    readonly deadline: number;
    constructor(readonly ex: Exchange, readonly attempt: number, readonly timeoutMs: number) {
      this.deadline = performance.now() + timeoutMs;
      outstanding.add(this);
      watch ??= setInterval(checkDeadlines, DEADLINE_CHECK_MS).unref();
    }
    get stale(): boolean { return this.ex.done || this.attempt !== this.ex.attempts; }
    onAnswer(status: number, headers: readonly string[], body: Buffer): void {
      outstanding.delete(this);
      if (!this.stale) answered(this.ex, status, headers, body.toString("utf8"));
    }
    onFailure(kind: "refused" | "broken", detail: string): void {
      outstanding.delete(this);
      failed(this.ex, this.attempt, kind === "refused" ? "connect" : "reset", detail);
    }
  }

  // Tries out are checked against their deadlines every few milliseconds by one timer (running
  // only while there are any), rather than each arming its own: a timer per request is a
  // visible share of the router's CPU.
  const outstanding = new Set<Try>();
  let watch: NodeJS.Timeout | null = null;
  const checkDeadlines = (): void => {
    const now = performance.now();
    for (const t of outstanding) {
      if (t.deadline > now) continue;
      outstanding.delete(t);
      t.cancel?.();
      failed(t.ex, t.attempt, "timeout", `no answer in ${Math.round(t.timeoutMs)} ms`);
    }
    if (outstanding.size === 0) {
      clearInterval(watch!);
      watch = null;
    }
  };

  const tryOnce = (ex: Exchange): void => {
    const attempt = ++ex.attempts;
    const left = ex.startedAt + deps.budgetMs - RESERVE_MS - performance.now();
    const t = new Try(ex, attempt, Math.max(1, Math.min(deps.attemptTimeoutMs, left)));
    t.cancel = deps.pool.send(ex.upstream!.url, ex.request.method, ex.request.target, ex.headerLines, t);
  };

  const failed = (ex: Exchange, attempt: number, kind: FailureKind, detail: string): void => {
    if (ex.done || attempt !== ex.attempts) return;
    // The caller hung up: nobody to answer, and no evidence against the upstream.
    if (ex.reply.gone) { ex.done = true; return; }
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

  const answered = (ex: Exchange, status: number, headers: readonly string[], body: string): void => {
    if (status >= 500) {
      ex.lastStatus = status;
      ex.lastBody = body;
      ex.lastHeaders = responseHeaders(headers);
      failed(ex, ex.attempts, "status", `status ${status}`);
      return;
    }
    recordSuccess(ex.upstream!);
    // The caller hung up while the try was out: nobody to answer, nothing served to log.
    if (ex.reply.gone) { ex.done = true; return; }
    if (status === 200 && ex.request.userId !== null) {
      body = body.trim();
      deps.popular.record(body);
    }
    finish(ex, status, responseHeaders(headers), body, ex.servedBy.id);
  };

  const giveUp = (ex: Exchange): void => {
    const popular = ex.request.userId === null ? null : deps.popular.current(deps.nowMs());
    if (popular !== null) {
      deps.metrics.fallbacks.inc();
      finish(ex, 200, [...OWN_HEADERS], popular, FALLBACK);
    } else if (ex.lastStatus) {
      finish(ex, ex.lastStatus, ex.lastHeaders, ex.lastBody, ex.servedBy.id);
    } else {
      finish(ex, 502, [...OWN_HEADERS], `no upstream answered: ${ex.lastFailure || "none healthy"}`, FALLBACK);
    }
  };

  /** `headers` is this exchange's own list: X-Release is added to it. */
  const finish = (ex: Exchange, status: number, headers: string[], body: string, release: string): void => {
    ex.done = true;
    headers.push("x-release", release);
    ex.reply.send(status, headers, body);
    const { userId } = ex.request;
    if (userId === null) return;
    const latencyMs = performance.now() - ex.startedAt;
    const series = release === FALLBACK ? deps.metrics.forRelease(FALLBACK) : ex.servedBy.series;
    series.record(latencyMs / 1000, status >= 500);
    deps.onServed({
      userId,
      status,
      result: status === 200 ? body : body.replace(/[\r\n]+/g, " ").slice(0, 200) || `status ${status}`,
      latencyMs,
      release,
      upstream: release === FALLBACK ? "" : ex.upstream!.url,
      attempts: ex.attempts,
    });
  };

  return (request, reply) => {
    const table = deps.table();
    const assigned = releaseFor(table, request.userId);
    const ex: Exchange = {
      request, reply, headerLines: requestHeaderLines(request.headers), assigned, table, servedBy: assigned, upstream: null,
      startedAt: performance.now(), attempts: 0, done: false,
      lastStatus: 0, lastBody: "", lastHeaders: [], lastFailure: "",
    };
    if (chooseTarget(table, assigned, null, ex)) tryOnce(ex);
    else giveUp(ex);
  };
}
