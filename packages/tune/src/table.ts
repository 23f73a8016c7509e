import { rmseTies, type TuneResult } from "./search.ts";

/**
 * The trials as a fixed-width text table, lowest RMSE first: `*` marks the choice, `=` the other
 * trials whose RMSE ties with the lowest (the candidates the ranking decided between). With
 * several data sets, each one's mean RMSE gets a column beside the objective (their mean).
 */
export function trialsTable(result: TuneResult): string {
  const keys = [...new Set(result.trials.flatMap((t) => Object.keys(t.config)))];
  const perData = result.data.length > 1 ? result.data.map((name) => `RMSE ${name}`) : [];
  const ranked = result.trials.some((t) => t.ndcg !== null);
  const head = ["trial", ...keys, "epochs", "mean RMSE", ...perData, "spread", ...(ranked ? ["nDCG@20"] : []), "seconds"];
  const mark = (t: TuneResult["trials"][number]) =>
    t === result.best ? "*" : result.lowestRmse && result.tiedWithLowest > 1 && rmseTies(t, result.lowestRmse) ? "=" : " ";
  const rows = [...result.trials].sort((a, b) => a.meanRmse - b.meanRmse || a.id - b.id).map((t) => [
    `${mark(t)}${t.id}`, ...keys.map((k) => t.config[k] === undefined ? "-" : String(t.config[k])),
    String(t.epochs), t.meanRmse.toFixed(4), ...(perData.length ? t.perData.map((d) => d.meanRmse.toFixed(4)) : []), t.spread.toFixed(4),
    ...(ranked ? [t.ndcg?.toFixed(4) ?? "-"] : []), t.seconds.toFixed(1),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows].map((r) => r.map((cell, c) => cell.padStart(widths[c]!)).join("  ")).join("\n");
}
