import { performance } from "node:perf_hooks";
import { endToEndOf } from "./header-fields.ts";
import type { RouterMetrics } from "./metrics.ts";
import type { PopularList } from "./popular.ts";
import { chooseTarget, releaseFor, type LiveRelease, type RouteTable, type Target } from "./table.ts";
import { failureOf, type TryHandler, type UpstreamAnswer, type UpstreamClient } from "./upstream-client.ts";
import { recordFailure, recordSuccess, type FailureKind, type Upstream } from "./upstreams.ts";

/** What a finished recommendation request reports to the logs. */
export interface Served {
  /** Wall-clock time the answer went out (deps.nowMs). */
  timeMs: number;
  userId: string;
  status: number;
  /** The answer's ids (comma-separated) on 200, else an error text; UTF-8 bytes when they came from an upstream. */
  result: string | Uint8Array;
  latencyMs: number;
  /** Release id that answered, or "fallback" for the popular list. */
  release: string;
  upstream: string;
  attempts: number;
}

export interface ForwarderDeps {
  table: () => RouteTable;
  client: UpstreamClient;
  budgetMs: number;
  attemptTimeoutMs: number;
  ejectAfter: number;
  metrics: RouterMetrics;
  popular: PopularList;
  nowMs: () => number;
  onServed: (served: Served) => void;
  /** Told when a failed try takes an upstream out of rotation (a worker process reports it to the primary). */
  onEjected?: (up: Upstream) => void;
}

/** A forwarded GET or HEAD: what the client asked, where the answer goes, and for which user. */
export interface ForwardRequest {
  method: "GET" | "HEAD";
  /** The upstream path, already normalised (`/recommend/<canonical id>` or `/version`). */
  path: string;
  /** The client's end-to-end header fields to pass on, flat `[name, value, ...]`. */
  headers: string[];
  /**
   * The canonical id of `/recommend/<id>`, or null for any other GET (served by the stable
   * release). A GET with a user goes to the stream's event log; a HEAD shows no list, so it does not.
   */
  userId: string | null;
}

/** Where the answer goes: the client's connection (through Node's server). */
export interface Reply {
  /** True once the client has hung up. */
  readonly gone: boolean;
  /** Writes the whole answer; `headers` flat `[name, value, ...]` without the framing or X-Release. */
  send(status: number, headers: readonly string[], release: string, body: string | Uint8Array): void;
}

/** How often tries are checked against their deadlines (their timeouts' resolution). */
const DEADLINE_CHECK_MS = 5;
/** A budget slice too small to be worth a second try. */
const MIN_TRY_MS = 20;
/** Kept back from the budget to write the fallback answer in time. */
const RESERVE_MS = 10;
const FALLBACK = "fallback";
const OWN_HEADERS = ["content-type", "text/plain; charset=utf-8"];

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
  lastBody: Uint8Array;
  lastHeaders: string[];
  lastFailure: string;
}

/**
 * The request path: pick the user's release (sticky bucket), a healthy upstream in it, and send
 * the request on a kept-alive upstream connection. A try that cannot connect, times out, is
 * broken off, answers for another user, or answers 5xx is retried once on
 * another healthy upstream within the caller's budget; when nothing answers, /recommend gets
 * the last good popular list instead of an error. Answers are read whole (one short line) so
 * the router can log ids and decide on a retry before the client sees a byte.
 *
 *     const forward = createForwarder(deps);
 *     forward({ method: "GET", path: "/recommend/42", headers: [], userId: "42" }, reply);
 */
export function createForwarder(deps: ForwarderDeps): (request: ForwardRequest, reply: Reply) => void {
  /** One try at one upstream (one small object per try). */
  class Try implements TryHandler {
    cancel: () => void = noop;
    readonly deadline: number;
    /** Index in `outstanding` while the try is out, else -1. */
    slot = -1;
    constructor(readonly ex: Exchange, readonly attempt: number, readonly timeoutMs: number, now: number) {
      this.deadline = now + timeoutMs;
      watchOut(this);
    }
    onAnswer(answer: UpstreamAnswer): void {
      unwatch(this);
      if (this.ex.done || this.attempt !== this.ex.attempts) return;
      // An answer that names another user is never passed on: whatever mis-framed it, this
      // client must not see someone else's list (the API echoes the id it answered for).
      const echoed = answer.headers["x-user-id"];
      const { userId } = this.ex.request;
      if (userId !== null && echoed !== undefined && echoed !== userId) {
        return failed(this.ex, this.attempt, "mismatch", `answered for user ${String(echoed).slice(0, 20)}`);
      }
      answered(this.ex, answer);
    }
    onFailure(err: unknown): void {
      unwatch(this);
      const { kind, detail } = failureOf(err);
      failed(this.ex, this.attempt, kind, detail);
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
    for (const t of late) {
      unwatch(t);
      failed(t.ex, t.attempt, "timeout", `no answer in ${Math.round(t.timeoutMs)} ms`);
      t.cancel();
    }
    if (outstanding.length === 0) {
      clearInterval(watch!);
      watch = null;
    }
  };

  const tryOnce = (ex: Exchange, now: number): void => {
    const attempt = ++ex.attempts;
    const left = ex.startedAt + deps.budgetMs - RESERVE_MS - now;
    const t = new Try(ex, attempt, Math.max(1, Math.min(deps.attemptTimeoutMs, left)), now);
    t.cancel = deps.client.send(ex.upstream!.url, ex.request.method, ex.request.path, ex.request.headers, t);
  };

  const failed = (ex: Exchange, attempt: number, kind: FailureKind, detail: string): void => {
    if (ex.done || attempt !== ex.attempts) return;
    // The caller hung up: nobody to answer, and no evidence against the upstream.
    if (ex.reply.gone) { ex.done = true; return; }
    const up = ex.upstream!;
    const wasHealthy = up.healthy;
    recordFailure(up, kind, deps.ejectAfter, detail);
    if (wasHealthy && !up.healthy) deps.onEjected?.(up);
    deps.metrics.upstreamFailure(ex.servedBy.id, up.url, kind);
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

  const answered = (ex: Exchange, answer: UpstreamAnswer): void => {
    const { status } = answer;
    let { body } = answer;
    const headers = endToEndOf(answer.headers);
    if (status >= 500) {
      ex.lastStatus = status;
      ex.lastBody = body;
      ex.lastHeaders = headers;
      failed(ex, ex.attempts, "status", `status ${status}`);
      return;
    }
    recordSuccess(ex.upstream!);
    // The caller hung up while the try was out: nobody to answer, nothing served to log.
    if (ex.reply.gone) { ex.done = true; return; }
    if (status === 200 && ex.request.userId !== null && ex.request.method === "GET") {
      // The id line without surrounding whitespace (an API may end it with a newline).
      let start = 0;
      let end = body.length;
      while (start < end && isSpace(body[start])) start++;
      while (end > start && isSpace(body[end - 1])) end--;
      deps.popular.record(body, start, end);
      if (start > 0 || end < body.length) body = body.subarray(start, end);
    }
    finish(ex, status, headers, body, ex.servedBy.id);
  };

  const giveUp = (ex: Exchange): void => {
    const popular = ex.request.userId === null ? null : deps.popular.current(deps.nowMs());
    if (popular !== null) {
      deps.metrics.fallbacks.inc();
      finish(ex, 200, OWN_HEADERS, popular, FALLBACK);
    } else if (ex.lastStatus) {
      finish(ex, ex.lastStatus, ex.lastHeaders, ex.lastBody, ex.servedBy.id);
    } else {
      finish(ex, 502, OWN_HEADERS, `no upstream answered: ${ex.lastFailure || "none healthy"}`, FALLBACK);
    }
  };

  const finish = (ex: Exchange, status: number, headers: string[], body: string | Uint8Array, release: string): void => {
    ex.done = true;
    ex.reply.send(status, headers, release, body);
    const { userId } = ex.request;
    if (userId === null) return;
    const latencyMs = performance.now() - ex.startedAt;
    const series = release === FALLBACK ? deps.metrics.forRelease(FALLBACK) : ex.servedBy.series;
    series.record(latencyMs / 1000, status >= 500);
    if (ex.request.method !== "GET") return;
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
      lastStatus: 0, lastBody: EMPTY, lastHeaders: [], lastFailure: "",
    };
    if (chooseTarget(table, assigned, null, ex)) tryOnce(ex, now);
    else giveUp(ex);
  };
}

const EMPTY = new Uint8Array(0);
const noop = (): void => {};

/** ASCII whitespace, as an id line may be padded with. */
const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** A failed answer's body as the one-line error text the request line carries. */
function errorText(body: string | Uint8Array, status: number): string {
  const text = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8");
  return text.replace(/[\r\n]+/g, " ").slice(0, 200) || `status ${status}`;
}
