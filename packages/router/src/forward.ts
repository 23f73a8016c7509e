import { performance } from "node:perf_hooks";
import type { Reply } from "./http-front.ts";
import type { RouterMetrics } from "./metrics.ts";
import type { PopularList } from "./popular.ts";
import { chooseTarget, releaseFor, type LiveRelease, type RouteTable, type Target } from "./table.ts";
import type { TryFailure, TryHandler, UpstreamPool } from "./upstream-pool.ts";
import { recordFailure, recordSuccess, type FailureKind } from "./upstreams.ts";

/** What a finished recommendation request reports to the logs. */
export interface Served {
  /** Wall-clock time the answer went out (deps.nowMs). */
  timeMs: number;
  userId: string;
  status: number;
  /**
   * The answer's ids (comma-separated) on 200, else an error text; as UTF-8 bytes when they came
   * from an upstream, valid only during `onServed`.
   */
  result: string | Uint8Array;
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
  /** The client's end-to-end header lines to pass on (`Name: value\r\n` each). */
  fields: string;
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
const OWN_FIELDS = "content-type: text/plain; charset=utf-8\r\n";

interface Exchange extends Target {
  request: ForwardRequest;
  reply: Reply;
  assigned: LiveRelease;
  table: RouteTable;
  startedAt: number;
  attempts: number;
  done: boolean;
  /** The last 5xx answer, passed on if nothing better turns up. */
  lastStatus: number;
  lastBody: string;
  lastFields: string;
  lastFailure: string;
}

/**
 * The request path: pick the user's release (sticky bucket), a healthy upstream in it, and send
 * the request on a kept-alive upstream connection. A try that cannot connect, times out, is
 * broken off (or dropped with a connection it shared), or answers 5xx is retried once on
 * another healthy upstream within the caller's budget; when nothing answers, /recommend gets
 * the last good popular list instead of an error. Answers are read whole (one short line) so
 * the router can log ids and decide on a retry before the client sees a byte.
 *
 *     const forward = createForwarder(deps);
 *     forward({ method: "GET", target: "/recommend/42", headers: [], userId: "42" }, reply);
 */
export function createForwarder(deps: ForwarderDeps): (request: ForwardRequest, reply: Reply) => void {
  /** One try at one upstream (one small object per try). */
  class Try implements TryHandler {
    cancel: (() => void) | null = null;
    readonly deadline: number;
    /** Index in `outstanding` while the try is out, else -1. */
    slot = -1;
    constructor(readonly ex: Exchange, readonly attempt: number, readonly timeoutMs: number, now: number) {
      this.deadline = now + timeoutMs;
      watchOut(this);
    }
    get stale(): boolean { return this.ex.done || this.attempt !== this.ex.attempts; }
    onAnswer(status: number, fields: string, body: Buffer): void {
      unwatch(this);
      if (!this.stale) answered(this.ex, status, fields, body);
    }
    onFailure(kind: TryFailure, detail: string): void {
      unwatch(this);
      failed(this.ex, this.attempt, kind === "refused" ? "connect" : kind === "broken" ? "reset" : "dropped", detail);
    }
  }

  // Tries out are checked against their deadlines every few milliseconds by one timer (running
  // only while there are any), rather than each arming its own: a timer per request is a
  // visible share of the router's CPU. They sit in an array, each knowing its index, so adding
  // and removing one is a store, not a hash-set update.
  const outstanding: Try[] = [];
  let watch: NodeJS.Timeout | null = null;
  const watchOut = (t: Try): void => {
    t.slot = outstanding.length;
    outstanding.push(t);
    watch ??= setInterval(checkDeadlines, DEADLINE_CHECK_MS).unref();
  };
  const unwatch = (t: Try): void => {
    if (t.slot < 0) return;
    const last = outstanding.pop()!;
    if (last !== t) {
      outstanding[t.slot] = last;
      last.slot = t.slot;
    }
    t.slot = -1;
  };
  const checkDeadlines = (): void => {
    const now = performance.now();
    const late = outstanding.filter((x) => x.deadline <= now);
    // All of them timed out, before any cancel: cancelling one closes its connection, which
    // would otherwise report the late tries sent with it as merely dropped.
    for (const t of late) {
      unwatch(t);
      failed(t.ex, t.attempt, "timeout", `no answer in ${Math.round(t.timeoutMs)} ms`);
    }
    for (const t of late) t.cancel?.();
    if (outstanding.length === 0) {
      clearInterval(watch!);
      watch = null;
    }
  };

  const tryOnce = (ex: Exchange, now: number): void => {
    const attempt = ++ex.attempts;
    const left = ex.startedAt + deps.budgetMs - RESERVE_MS - now;
    const t = new Try(ex, attempt, Math.max(1, Math.min(deps.attemptTimeoutMs, left)), now);
    t.cancel = deps.pool.send(ex.upstream!.url, ex.request.method, ex.request.target, ex.request.fields, t);
  };

  /** `dropped`: the try's connection closed for another try's sake, no evidence against the upstream. */
  const failed = (ex: Exchange, attempt: number, kind: FailureKind | "dropped", detail: string): void => {
    if (ex.done || attempt !== ex.attempts) return;
    // The caller hung up: nobody to answer, and no evidence against the upstream.
    if (ex.reply.gone) { ex.done = true; return; }
    const up = ex.upstream!;
    if (kind !== "dropped") {
      recordFailure(up, kind, deps.ejectAfter, detail);
      deps.metrics.upstreamFailure(ex.servedBy.id, up.url, kind);
    }
    ex.lastFailure = `${kind} at ${up.url} (${detail})`;
    const now = performance.now();
    const left = ex.startedAt + deps.budgetMs - RESERVE_MS - now;
    if (ex.attempts < 2 && left >= MIN_TRY_MS && chooseTarget(ex.table, ex.assigned, up, ex)) {
      deps.metrics.retries.inc();
      tryOnce(ex, now);
    } else {
      giveUp(ex);
    }
  };

  /** `body` is valid only during the call (a view of the pool's read buffer). */
  const answered = (ex: Exchange, status: number, fields: string, body: Buffer): void => {
    if (status >= 500) {
      ex.lastStatus = status;
      ex.lastBody = body.toString("utf8");
      ex.lastFields = fields;
      failed(ex, ex.attempts, "status", `status ${status}`);
      return;
    }
    recordSuccess(ex.upstream!);
    // The caller hung up while the try was out: nobody to answer, nothing served to log.
    if (ex.reply.gone) { ex.done = true; return; }
    if (status === 200 && ex.request.userId !== null) {
      // The id line without surrounding whitespace (an API may end it with a newline).
      let start = 0;
      let end = body.length;
      while (start < end && isSpace(body[start])) start++;
      while (end > start && isSpace(body[end - 1])) end--;
      deps.popular.record(body, start, end);
      if (start > 0 || end < body.length) body = body.subarray(start, end);
    }
    finish(ex, status, fields, body, ex.servedBy.id);
  };

  const giveUp = (ex: Exchange): void => {
    const popular = ex.request.userId === null ? null : deps.popular.current(deps.nowMs());
    if (popular !== null) {
      deps.metrics.fallbacks.inc();
      finish(ex, 200, OWN_FIELDS, popular, FALLBACK);
    } else if (ex.lastStatus) {
      finish(ex, ex.lastStatus, ex.lastFields, ex.lastBody, ex.servedBy.id);
    } else {
      finish(ex, 502, OWN_FIELDS, `no upstream answered: ${ex.lastFailure || "none healthy"}`, FALLBACK);
    }
  };

  const finish = (ex: Exchange, status: number, fields: string, body: string | Uint8Array, release: string): void => {
    ex.done = true;
    ex.reply.send(status, `${fields}x-release: ${release}\r\n`, body);
    const { userId } = ex.request;
    if (userId === null) return;
    const latencyMs = performance.now() - ex.startedAt;
    const series = release === FALLBACK ? deps.metrics.forRelease(FALLBACK) : ex.servedBy.series;
    series.record(latencyMs / 1000, status >= 500);
    deps.onServed({
      timeMs: deps.nowMs(),
      userId,
      status,
      result: status === 200 ? body : errorText(body, status),
      latencyMs,
      release,
      upstream: release === FALLBACK ? "" : ex.upstream!.url,
      attempts: ex.attempts,
    });
  };

  return (request, reply) => {
    const table = deps.table();
    const assigned = releaseFor(table, request.userId);
    const now = performance.now();
    const ex: Exchange = {
      request, reply, assigned, table, servedBy: assigned, upstream: null,
      startedAt: now, attempts: 0, done: false,
      lastStatus: 0, lastBody: "", lastFields: "", lastFailure: "",
    };
    if (chooseTarget(table, assigned, null, ex)) tryOnce(ex, now);
    else giveUp(ex);
  };
}

/** ASCII whitespace, as an id line may be padded with. */
const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** A failed answer's body as the one-line error text the request line carries. */
function errorText(body: string | Uint8Array, status: number): string {
  const text = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8");
  return text.replace(/[\r\n]+/g, " ").slice(0, 200) || `status ${status}`;
}
