import { describe, expect, it } from "vitest";
import { createRng } from "@recsys/core";
import { createResponseLineEncoder, formatResponseLine, resultFieldBytes, responseLineBound } from "./response-line.ts";
import type { ResponseRecord } from "./response-log.ts";

const T0 = Date.parse("2026-12-07T17:04:05.678Z");
const MODEL_A = { release: "r-20261207-1512", commit: "3f1c2a9b7d4e5f60718293a4b5c6d7e8f9012345", modelHash: "9e107d9d372bb6826bd81d3542a419d6", dataHash: "0".repeat(32) };
const MODEL_B = { release: "r-20261208-0900", commit: "0123456789abcdef0123456789abcdef01234567", modelHash: "e".repeat(32), dataHash: "d".repeat(32) };
/** Before any model loaded: a 503 carries no hashes. */
const NO_MODEL = { ...MODEL_A, modelHash: "", dataHash: "" };

const ids = Array.from({ length: 20 }, (_, i) => `the+film+n°${i}+${1950 + i}`).join("|");
const TEXTS = [ids, "a+1|b+2", 'say "hi", then go', "line\nbreak\r", "é, with a comma", "é alone", "日本語|映画", "😀", ""];
const USERS = ["4242", "0", '"quoted"', "a,b", "é?x", "printable excerpt…"];
// 0.0045: the nearest double is just below the tie, so toFixed gives 0.004 where rounding ms * 1000 gives 0.005.
const LATENCIES = [0, 0.0005, 0.0015, 0.0045, 0.0095, 1.0005, 2.675, 0.123456, 12.3456789, 999.9995, 1234.5, 999_999.9999, 1e6 + 0.0005, 3e21, -0, -1.5, Number.NaN];

/** Varied records: every quoting case, non-ASCII, statuses, latencies at toFixed's rounding edges, models swapping back and forth. */
function records(): ResponseRecord[] {
  const out: ResponseRecord[] = [];
  let i = 0;
  for (const text of TEXTS) for (const userId of USERS) for (const model of [MODEL_A, MODEL_B, NO_MODEL]) {
    out.push({
      timeMs: T0 + 37 * i, requestId: `a1b2c3d4-${(++i).toString(36)}`, userId, status: [200, 400, 503, 500, 99, 1000][i % 6]!,
      latencyMs: LATENCIES[i % LATENCIES.length]!, ...model, result: text, exploreSlots: i % 2 ? "3|17" : "",
    });
  }
  return out;
}

/** The encoder's bytes for `recs`, in one buffer as the log's chunks hold them. */
function encodeAll(recs: ResponseRecord[]): Buffer {
  const encode = createResponseLineEncoder();
  const buf = Buffer.alloc(recs.reduce((n, r) => n + responseLineBound(r), 0));
  let at = 0;
  for (const r of recs) at = encode(buf, at, r);
  return buf.subarray(0, at);
}

describe("response line encoder", () => {
  it("writes exactly formatResponseLine's bytes for any record, the ids given as text or as cached bytes", () => {
    const recs = records();
    const expected = Buffer.from(recs.map(formatResponseLine).join(""));
    expect(encodeAll(recs).equals(expected)).toBe(true);
    const withBytes = recs.map((r) => ({ ...r, resultBytes: resultFieldBytes(r.result) }));
    expect(encodeAll(withBytes).equals(expected)).toBe(true);
  });

  it("writes the new model's commit and hashes from the first line after a swap", () => {
    const recs = records().filter((r) => r.userId === "4242" && r.result === ids);
    const lines = encodeAll(recs).toString("utf8").trimEnd().split("\n");
    expect(lines.map((l) => l.split(",").slice(5, 9).join(","))).toEqual(recs.map((r) => `${r.release},${r.commit},${r.modelHash},${r.dataHash}`));
  });

  it("writes latencies as toFixed(3) does, ties and odd values included", () => {
    const rng = createRng(14);
    // Half at random magnitudes, half on the x.xxx5 ties toFixed's exact decimal rounding decides.
    const random = Array.from({ length: 20_000 }, (_, k) => (k % 2 ? rng.next() * 10 ** (k % 7) : Math.floor(rng.next() * 1e6) / 2000));
    const encode = createResponseLineEncoder();
    const base = records()[0]!;
    const buf = Buffer.alloc(1024);
    for (const latencyMs of [...LATENCIES, ...random]) {
      expect(buf.toString("utf8", 0, encode(buf, 0, { ...base, latencyMs })).split(",")[4]).toBe(latencyMs.toFixed(3));
    }
  });
});
