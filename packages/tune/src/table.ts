import type { TuneResult } from "./search.ts";

/** The trials as a fixed-width text table, best first, with the winner marked. */
export function trialsTable(result: TuneResult): string {
  const keys = [...new Set(result.trials.flatMap((t) => Object.keys(t.config)))];
  const head = ["trial", ...keys, "epochs", "mean RMSE", "spread", "seconds"];
  const rows = [...result.trials].sort((a, b) => a.meanRmse - b.meanRmse || a.id - b.id).map((t) => [
    `${t === result.best ? "*" : " "}${t.id}`, ...keys.map((k) => t.config[k] === undefined ? "-" : String(t.config[k])),
    String(t.epochs), t.meanRmse.toFixed(4), t.spread.toFixed(4), t.seconds.toFixed(1),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows].map((r) => r.map((cell, c) => cell.padStart(widths[c]!)).join("  ")).join("\n");
}
