import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { PlatformStatus } from "@recsys/deploy";
import { formatLiveView, type LiveStatus } from "./status.ts";
import { createTerminalOutput } from "./terminal.ts";

/** A stream that records what is written, posing as a terminal `columns` wide when `tty`. */
function fakeStream(tty: boolean, columns = 100) {
  let text = "";
  const stream = Object.assign(new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } }), { isTTY: tty, columns });
  return { stream, text: () => text };
}

/**
 * What a terminal shows after `text`: printable characters, newlines, carriage return, cursor up
 * (ESC [ n A) and clear to the end of the screen (ESC [ J), the only controls the view may use.
 */
function screen(text: string): string[] {
  const rows: string[] = [""];
  let row = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\x1b") {
      const m = /^\x1b\[(\d*)([AJ])/.exec(text.slice(i));
      if (!m) throw new Error(`unexpected control sequence at ${i}: ${JSON.stringify(text.slice(i, i + 8))}`);
      if (m[2] === "A") row = Math.max(0, row - Number(m[1] || 1));
      else rows.splice(row + 1), (rows[row] = "");
      i += m[0].length - 1;
    } else if (c === "\n") {
      row++;
      rows[row] ??= "";
    } else if (c !== "\r") {
      rows[row] += c;
    }
  }
  return rows.slice(0, rows.at(-1) === "" ? -1 : undefined);
}

const platform = (verdict: "initial" | "promoted", canaryWeight: number | null): PlatformStatus => ({
  state: {} as PlatformStatus["state"],
  router: [
    { id: "r-3f2a", role: "stable", upstreams: [], weight: 100 - (canaryWeight ?? 0) },
    ...(canaryWeight === null ? [] : [{ id: "r-9c1d", role: "canary" as const, upstreams: [], weight: canaryWeight }]),
  ],
  releases: [{ releaseId: "r-3f2a", verdict } as PlatformStatus["releases"][number]],
});
const traffic = { sent: 500, ok: 499, failed: 1, rps: 39.84, p99Ms: 12.3, successRate: 0.998 };
const view = (canary: LiveStatus["canary"], weight: number | null = 20): LiveStatus => ({ platform: platform("promoted", weight), traffic, canary });
const progress = { release: "r-9c1d", requests: 84, minRequests: 100, samples: 312, minSamples: 100, followDiff: -0.012, ci95: [-0.04, 0.016] as [number, number], verdict: "continue" as const };

describe("live view", () => {
  it("shows releases and weights, traffic, the canary's progress and the last verdict in four short rows", () => {
    expect(formatLiveView(view(progress))).toEqual([
      "releases  r-3f2a stable 80%  r-9c1d canary 20%",
      "traffic   39.8 req/s  p99 12 ms  ok 99.80%",
      "canary    84/100 requests  312/100 follow samples  diff -1.2% [-4.0%, +1.6%]  continue",
      "last      r-3f2a promoted",
    ]);
    expect(formatLiveView(view(null, null))[2]).toBe("canary    none (the next one follows the next retrain)");
    expect(formatLiveView(view(null, 20))[2]).toBe("canary    taking traffic, first analysis pending");
    expect(formatLiveView(view({ ...progress, followDiff: null, ci95: null }))[2]).toContain("follow samples  diff -  continue");
  });

  it("on a terminal, redraws the view in place below the event lines", () => {
    const { stream, text } = fakeStream(true);
    const out = createTerminalOutput(stream, { verbose: false, env: {} });
    out.event("train #1: held-out RMSE 0.8900 < 1: gate passed -> m1");
    out.status!(view(null, null));
    out.event("canary r-9c1d takes 20% of traffic");
    out.detail!("analysis after 3 s: continue (canary 12 requests, stable 48; ...)");
    out.status!(view(progress));
    out.status!(view({ ...progress, requests: 100, verdict: "promote" }));
    expect(screen(text())).toEqual([
      "train #1: held-out RMSE 0.8900 < 1: gate passed -> m1",
      "canary r-9c1d takes 20% of traffic",
      ...formatLiveView(view({ ...progress, requests: 100, verdict: "promote" })),
    ]);
    // After close the last frame stays, and later lines go below it.
    out.close!();
    out.event("stopped: 500 live requests, 1 failed");
    expect(screen(text()).slice(-2)).toEqual(["last      r-3f2a promoted", "stopped: 500 live requests, 1 failed"]);
  });

  it("cuts rows to the terminal's width, so a wrapped row cannot throw the redraw off", () => {
    const { stream, text } = fakeStream(true, 40);
    const out = createTerminalOutput(stream, { verbose: false, env: {} });
    out.status!(view(progress));
    out.status!(view(progress));
    const rows = screen(text());
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.length).toBeLessThan(40);
    expect(rows[2]).toMatch(/^canary {4}84\/100 requests.*…$/);
  });

  it("draws no view on a terminal when CI is set", () => {
    const { stream, text } = fakeStream(true);
    const out = createTerminalOutput(stream, { verbose: false, env: { CI: "1" } });
    out.event("canary r-9c1d takes 20% of traffic");
    out.status!(view(progress));
    expect(text()).toBe("canary r-9c1d takes 20% of traffic\n");
  });

  it("shows the analysis lines with verbose", () => {
    const { stream, text } = fakeStream(true);
    const out = createTerminalOutput(stream, { verbose: true, env: {} });
    out.detail!("analysis after 3 s: continue");
    expect(screen(text())).toEqual(["analysis after 3 s: continue"]);
  });

  it("elsewhere (a CI log), writes events line by line, no control characters, and the status every 30 s", () => {
    const { stream, text } = fakeStream(false);
    const out = createTerminalOutput(stream, { verbose: false, env: {} });
    out.event("canary r-9c1d takes 20% of traffic");
    for (let i = 0; i < 65; i++) {
      out.detail!(`analysis after ${i * 3} s: continue (...)`);
      out.status!(view(progress));
    }
    out.close!();
    expect(text()).not.toMatch(/[\x1b\r]/);
    expect(text().trimEnd().split("\n")).toEqual([
      "canary r-9c1d takes 20% of traffic",
      "r-3f2a stable 80% | r-9c1d canary 20% | 39.8 req/s  p99 12 ms  ok 99.80% | last: r-3f2a promoted",
      "r-3f2a stable 80% | r-9c1d canary 20% | 39.8 req/s  p99 12 ms  ok 99.80% | last: r-3f2a promoted",
    ]);
  });
});
