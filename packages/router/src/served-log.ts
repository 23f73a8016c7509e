import { encodeRequestLine, putComma, putEventTime, putInt, putText, requestLineBound, type LineLog } from "@recsys/core";
import type { Served } from "./forward.ts";

/** Where served requests' lines go: a LineLog (the file's one writer), or a worker's batch to its primary. */
export type LineSink = Pick<LineLog, "writeWith">;

export const RELEASES_HEADER = "time,user_id,release,upstream,status,latency_ms,attempts";

/**
 * Writes one served /recommend request to both logs: the stream's request line (through core's
 * `encodeRequestLine`, straight into the sink's buffer) and a row of the releases CSV.
 *
 *     const onServed = servedLogger("router-1:8082", events, servedBy);
 */
export function servedLogger(serverName: string, events: LineSink, servedBy: LineSink): (s: Served) => void {
  const encodeEventLine = (buf: Buffer, at: number, s: Served): number => encodeRequestLine(buf, at, s.timeMs, s.userId, serverName, s.status, s.result, s.latencyMs);
  return (s) => {
    events.writeWith(requestLineBound(s.userId, serverName, s.result), encodeEventLine, s);
    servedBy.writeWith(64 + 3 * (s.userId.length + s.release.length + s.upstream.length), encodeServedRow, s);
  };
}

/** One row of the releases CSV (see RELEASES_HEADER), written into the log's buffer. */
function encodeServedRow(buf: Buffer, at: number, s: Served): number {
  at = putEventTime(buf, at, s.timeMs);
  // The canonical id (digits only): nothing to quote.
  at = putText(buf, putComma(buf, at), s.userId);
  at = putText(buf, putComma(buf, at), s.release);
  at = putText(buf, putComma(buf, at), s.upstream);
  at = putInt(buf, putComma(buf, at), s.status);
  at = putInt(buf, putComma(buf, at), Math.round(s.latencyMs));
  return putInt(buf, putComma(buf, at), s.attempts);
}
