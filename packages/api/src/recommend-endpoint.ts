import type { IncomingMessage, ServerResponse } from "node:http";
import { userIdFromSegment } from "@recsys/core";
import { TEXT, elapsedMs, type AppContext, type Respond } from "./context.ts";
import type { CachedAnswer, ServingState } from "./model-holder.ts";
import { MAX_USER_ID, recommend } from "./recommend.ts";
import { readGenres } from "./calibration.ts";
import { resultFieldBytes } from "./response-line.ts";
import { createDayClock, createRequestIds, printable } from "./request-context.ts";

const PREFIX = "/recommend/";
const BAD_ID = `user id must be a whole number from 0 to ${MAX_USER_ID} (1-10 digits)`;
/** How much of a refused segment a 400 message or log line may quote. */
const EXCERPT = 32;

export interface RecommendEndpoint {
  /**
   * Answers GET /recommend/<segment>, `segment` as the client sent it (still percent-encoded):
   * core's `userIdFromSegment` is the one rule for who the request is for, as in the router.
   */
  handle(req: IncomingMessage, res: ServerResponse, segment: string): void;
  /**
   * Serves the request and returns true when it is GET /recommend/<one segment>; the server
   * calls it before express, so the hot path skips the router (a cached answer then costs about
   * 20 µs of CPU instead of 70).
   */
  tryFastPath(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The one-line reason for a refused segment, quoting at most a short printable excerpt. */
function badIdReason(segment: string): string {
  let badEncoding = false;
  try {
    if (segment.length <= EXCERPT) decodeURIComponent(segment); // a longer one is refused for its length
  } catch {
    badEncoding = true;
  }
  return `${BAD_ID}, got "${printable(segment, EXCERPT)}"${badEncoding ? " (bad percent-encoding)" : ""}`;
}

export function createRecommendEndpoint(ctx: AppContext, respond: Respond): RecommendEndpoint {
  const { config, holder, metrics } = ctx;
  const requestId = createRequestIds();
  const dayOf = createDayClock();
  // Off (lambda 0) leaves the option out, so the hot path is exactly the uncalibrated one.
  const calibration = config.calibration > 0 && config.movies
    ? { lambda: config.calibration, candidates: config.calibrationCandidates, genres: readGenres(config.movies) }
    : undefined;

  /**
   * Sends and logs one response with the model that produced it. `userId` is the canonical id,
   * or null when the segment was not one (then the log keeps a short excerpt and no X-User-Id is
   * sent): the router checks X-User-Id, so an answer can only ever be taken for its own user.
   */
  function answer(req: IncomingMessage, res: ServerResponse, userId: string | null, segment: string, state: ServingState | null, status: number, body: string, cached?: CachedAnswer): void {
    const id = requestId(req);
    const headers: Record<string, string> = { "X-Request-Id": id, "X-Release": config.release };
    if (userId !== null) headers["X-User-Id"] = userId;
    if (state) headers["X-Model"] = state.model.meta.modelHash;
    // Stamped before the answer leaves: the user's watch that follows it can never carry an earlier time.
    const sentAt = ctx.now();
    respond(req, res, "recommend", status, TEXT, body, headers);
    ctx.log()?.append({
      timeMs: sentAt, requestId: id, userId: userId ?? printable(segment, EXCERPT), status, latencyMs: elapsedMs(req),
      release: config.release, commit: config.commit,
      modelHash: state?.model.meta.modelHash ?? "", dataHash: state?.model.meta.dataHash ?? "",
      result: cached ? cached.result : body, resultBytes: cached?.resultBytes, exploreSlots: cached ? cached.exploreSlots : "",
    });
  }

  const endpoint: RecommendEndpoint = {
    handle(req, res, segment) {
      // Read the state once: this request finishes on this model even if a swap lands meanwhile.
      // While draining for a stop, requests still on open connections are answered normally.
      const state = holder.current();
      const userId = userIdFromSegment(segment);
      if (userId === null) return answer(req, res, null, segment, state, 400, badIdReason(segment));
      if (!state) return answer(req, res, userId, segment, state, 503, "model not loaded yet");
      const day = dayOf(ctx.now());
      if (state.cacheDay !== day) {
        state.cache.clear();
        state.cacheDay = day;
      }
      const key = Number(userId);
      let cached = state.cache.get(key);
      if (!cached) {
        const rec = recommend(state.model, key, { exploreShare: config.exploreShare, day, calibration, popularityPrior: config.popularityPrior });
        const result = rec.ids.join("|");
        cached = { body: rec.ids.join(","), result, resultBytes: resultFieldBytes(result), exploreSlots: rec.exploreSlots.join("|"), exploreCount: rec.exploreSlots.length };
        state.cache.set(key, cached);
      }
      if (cached.exploreCount) metrics.exploreSlots(cached.exploreCount);
      answer(req, res, userId, segment, state, 200, cached.body, cached);
    },
    tryFastPath(req, res) {
      const url = req.url!;
      if (req.method !== "GET" || !url.startsWith(PREFIX)) return false;
      let end = url.indexOf("?", PREFIX.length);
      if (end < 0) end = url.length;
      const segment = url.slice(PREFIX.length, end);
      if (segment.length === 0 || segment.includes("/")) return false;
      try {
        endpoint.handle(req, res, segment);
      } catch (err) {
        // Outside express nothing else would catch it: answer 500 rather than crash the process.
        ctx.report(`api: GET ${printable(url, 100)} failed: ${(err as Error).message}`);
        if (!res.headersSent) answer(req, res, userIdFromSegment(segment), segment, holder.current(), 500, "internal error");
      }
      return true;
    },
  };
  return endpoint;
}
