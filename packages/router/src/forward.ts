import type { Agent, ClientRequest, IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import httpProxy from "http-proxy";
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
  agent: Agent;
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
const EX = Symbol("recsys.exchange");
const OWN_HEADERS = ["content-type", "text/plain; charset=utf-8"];
/** Hop-by-hop headers (RFC 9110 7.6.1) and the length, which the router sets itself. */
const DROPPED = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length", "x-release"]);

/**
 * The upstream's end-to-end headers (provenance headers like a commit id pass through) plus
 * the body length and `X-Release`, as the flat [name, value, ...] list writeHead takes.
 */
function endToEnd(raw: string[], length: number, release: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!DROPPED.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  out.push("content-length", String(length), "x-release", release);
  return out;
}

interface Exchange extends Target {
  req: IncomingMessage;
  res: ServerResponse;
  userId: string | null;
  assigned: LiveRelease;
  table: RouteTable;
  startedAt: number;
  attempts: number;
  timer: NodeJS.Timeout | null;
  proxyReq: ClientRequest | null;
  done: boolean;
  /** The last 5xx answer, passed on if nothing better turns up. */
  lastStatus: number;
  lastBody: string;
  lastHeaders: string[];
  lastFailure: string;
}

type Tagged = IncomingMessage & { [EX]?: Exchange };

/**
 * The request path: pick the user's release (sticky bucket), a healthy upstream in it, and
 * proxy the GET through http-proxy on a keep-alive agent. A try that cannot connect, times out,
 * is reset, or answers 5xx is retried once on another healthy upstream within the caller's
 * budget; when nothing answers, /recommend gets the last good popular list instead of an error.
 * Answers are buffered (one short line) so the router can log ids and decide on a retry before
 * the client sees a byte.
 *
 *     const forward = createForwarder(deps);
 *     forward(req, res, "42"); // GET /recommend/42
 */
export function createForwarder(deps: ForwarderDeps): { forward: (req: IncomingMessage, res: ServerResponse, userId: string | null) => void; close: () => void } {
  const proxy = httpProxy.createProxyServer({ agent: deps.agent, selfHandleResponse: true, xfwd: false });

  proxy.on("proxyReq", (proxyReq, req) => {
    const ex = (req as Tagged)[EX];
    if (ex) ex.proxyReq = proxyReq;
  });

  proxy.on("proxyRes", (proxyRes, req) => {
    const ex = (req as Tagged)[EX];
    if (!ex) return;
    const attempt = ex.attempts;
    // An answer is one short line, nearly always one chunk: no string decoder, one toString.
    let body: Buffer | null = null;
    proxyRes.on("data", (chunk: Buffer) => { body = body === null ? chunk : Buffer.concat([body, chunk]); });
    proxyRes.on("end", () => {
      if (ex.done || attempt !== ex.attempts) return;
      answered(ex, proxyRes.statusCode ?? 502, proxyRes.rawHeaders, body === null ? "" : (body as Buffer).toString("utf8"));
    });
    proxyRes.on("error", (err) => failed(ex, attempt, "reset", err.message));
  });

  const tryOnce = (ex: Exchange): void => {
    ex.attempts++;
    const attempt = ex.attempts;
    const left = ex.startedAt + deps.budgetMs - RESERVE_MS - performance.now();
    const timeoutMs = Math.max(1, Math.min(deps.attemptTimeoutMs, left));
    ex.proxyReq = null;
    ex.timer = setTimeout(() => {
      ex.proxyReq?.destroy();
      failed(ex, attempt, "timeout", `no answer in ${Math.round(timeoutMs)} ms`);
    }, timeoutMs);
    proxy.web(ex.req, ex.res, { target: ex.upstream!.target }, (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      failed(ex, attempt, code === "ECONNREFUSED" ? "connect" : "reset", code ?? err.message);
    });
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

  const answered = (ex: Exchange, status: number, headers: string[], body: string): void => {
    if (status >= 500) {
      ex.lastStatus = status;
      ex.lastBody = body;
      ex.lastHeaders = headers;
      failed(ex, ex.attempts, "status", `status ${status}`);
      return;
    }
    clearTimeout(ex.timer!);
    recordSuccess(ex.upstream!);
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
      finish(ex, 200, OWN_HEADERS, popular, FALLBACK);
    } else if (ex.lastStatus) {
      finish(ex, ex.lastStatus, ex.lastHeaders, ex.lastBody, ex.servedBy.id);
    } else {
      finish(ex, 502, OWN_HEADERS, `no upstream answered: ${ex.lastFailure || "none healthy"}`, FALLBACK);
    }
  };

  const finish = (ex: Exchange, status: number, headers: string[], body: string, release: string): void => {
    ex.done = true;
    const { res } = ex;
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(status, endToEnd(headers, Buffer.byteLength(body), release));
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

  const forward = (req: IncomingMessage, res: ServerResponse, userId: string | null): void => {
    const table = deps.table();
    const assigned = releaseFor(table, userId);
    const ex: Exchange = {
      req, res, userId, assigned, table, servedBy: assigned, upstream: null,
      startedAt: performance.now(), attempts: 0, timer: null, proxyReq: null, done: false,
      lastStatus: 0, lastBody: "", lastHeaders: OWN_HEADERS, lastFailure: "",
    };
    (req as Tagged)[EX] = ex;
    if (chooseTarget(table, assigned, null, ex)) tryOnce(ex);
    else giveUp(ex);
  };

  return { forward, close: () => proxy.close() };
}
