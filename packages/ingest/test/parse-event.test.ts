import { describe, expect, it } from "vitest";
import { formatRateLine, formatRequestLine, formatWatchLine, normalizeEventTime } from "@recsys/core";
import { parseEventLine } from "../src/index.ts";

const T = Date.UTC(2022, 1, 8, 18, 6, 56, 145);

describe("parseEventLine", () => {
  it("reads the three kinds as core formats them", () => {
    expect(parseEventLine(formatWatchLine(T, 7, "the+godfather+1972", 12))).toEqual({
      kind: "watch", time: "2022-02-08T18:06:56.145000", userId: 7, movieId: "the+godfather+1972", minute: 12,
    });
    expect(parseEventLine(formatRateLine(T, 7, "the+godfather+1972", 4))).toMatchObject({ kind: "rate", rating: 4 });
    expect(parseEventLine(formatRequestLine(T, 7, "srv:8082", 200, ["a+1999", "b+2001"], 42))).toEqual({
      kind: "request", time: "2022-02-08T18:06:56.145000", userId: 7, server: "srv:8082", status: 200, latencyMs: 42, result: "a+1999|b+2001",
    });
  });

  it("keeps an error text when the status is not 200, and an empty result list", () => {
    expect(parseEventLine(formatRequestLine(T, 3, "srv", 0, "java.net.SocketTimeoutException: Read timed out", 800)))
      .toMatchObject({ status: 0, result: "java.net.SocketTimeoutException: Read timed out", latencyMs: 800 });
    expect(parseEventLine(formatRequestLine(T, 3, "srv", 200, [], 5))).toMatchObject({ status: 200, result: "" });
  });

  it("accepts times with and without fractional seconds", () => {
    expect(parseEventLine("2022-02-08T18:06:56,1,GET /rate/x+1999=5")).toMatchObject({ time: "2022-02-08T18:06:56.000000" });
    expect(parseEventLine("2022-02-08T18:06:56.145104,1,GET /rate/x+1999=5")).toMatchObject({ time: "2022-02-08T18:06:56.145104" });
    expect(parseEventLine("2022-02-08T18:06:56.5,1,GET /rate/x+1999=5")).toMatchObject({ time: "2022-02-08T18:06:56.500000" });
    expect(normalizeEventTime("2024-02-29T00:00:00")).toBe("2024-02-29T00:00:00.000000");
  });

  it.each([
    ["2022-02-08T18:06:56,1", "truncated"],
    ["2022-02-08T18:06:56,1,GET /data/m/x+1999/1", "truncated"],
    ["2022-02-08T18:06:56,1,GET /rat", "truncated"],
    ["2022-02-08T18:06:56,1,GET /rate/x+1999=", "truncated"],
    ["2022-02-08T18:06:56,1,recommendation request srv, status 200, result: a+1", "truncated"],
    ["2022-02-08 18:06:56,1,GET /rate/x+1999=5", "bad_time"],
    ["2023-02-29T18:06:56,1,GET /rate/x+1999=5", "bad_time"],
    ["2022-02-08T18:06:56Z,1,GET /rate/x+1999=5", "bad_time"],
    ["2022-02-08T18:06:56,-1,GET /rate/x+1999=5", "bad_user_id"],
    ["2022-02-08T18:06:56,99999999999,GET /rate/x+1999=5", "bad_user_id"],
    ["2022-02-08T18:06:56,1,GET /rate/x 1999=5", "bad_movie_id"],
    ["2022-02-08T18:06:56,1,GET /data/m//3.mpg", "bad_movie_id"],
    ["2022-02-08T18:06:56,1,POST /rate/x+1999=5", "unknown_kind"],
    ["2022-02-08T18:06:56,1,GET /data/m/x+1999/-3.mpg", "bad_minute"],
    ["2022-02-08T18:06:56,1,GET /data/m/x+1999/1440.mpg", "bad_minute"],
    ["2022-02-08T18:06:56,1,GET /rate/x+1999=five", "bad_rating"],
    ["2022-02-08T18:06:56,1,GET /rate/x+1999=0", "rating_out_of_range"],
    ["2022-02-08T18:06:56,1,GET /rate/x+1999=5.5", "rating_out_of_range"],
    ["2022-02-08T18:06:56,1,recommendation request srv, status OK, result: a+1, 5 ms", "bad_request"],
    ["2022-02-08T18:06:56,1,recommendation request srv, status 200, result: a b, 5 ms", "bad_request"],
    ["2022-02-08T18:06:56,1,recommendation request srv, status 200, 5 ms", "bad_request"],
  ])("rejects %s as %s", (line, reason) => {
    expect(parseEventLine(line)).toEqual({ reject: reason });
  });
});
