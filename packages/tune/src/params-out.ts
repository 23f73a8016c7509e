import { access } from "node:fs/promises";
import { stringify } from "yaml";
import { outputToken, writeFileAtomic } from "@recsys/core";
import { readParamsFile, type ParamsFile } from "@recsys/train";
import type { TuneResult } from "./search.ts";

/**
 * Writes the best trial to a params.yaml (train: engine, its drawn values, epochs, seed), atomically.
 * The file carries recsys's output token, so a later `recsys tune` replaces it; a file recsys did
 * not write is replaced only with `force` (core's checkOutput). The gate: and serve: sections of
 * a file being replaced are kept when it parses (they are not tune's to choose).
 *
 *     await writeBestParams("params.yaml", result, { force: false, inputs: [dataDir] });
 */
export async function writeBestParams(path: string, result: TuneResult, claim: { force: boolean; inputs: string[] }): Promise<ParamsFile> {
  if (!result.best) throw new Error("writeBestParams: no finished trial to write");
  const b = result.best;
  const kept = await access(path).then(() => readParamsFile(path).catch(() => ({}) as ParamsFile), () => ({}) as ParamsFile);
  const params: ParamsFile = {
    train: { engine: result.engine, ...b.config, epochs: b.epochs, seed: result.seed },
    gate: kept.gate ?? { rmse: 1.0 },
    ...(kept.serve ? { serve: kept.serve } : {}),
  };
  const header = `# ${outputToken("params")}: written by 'recsys tune' (best of ${result.trials.length} trials on ${result.data.join(" + ")}, `
    + `${result.folds}-fold CV RMSE ${b.meanRmse.toFixed(4)} +- ${b.spread.toFixed(4)}${b.ndcg === null ? "" : `, nDCG@20 ${b.ndcg.toFixed(4)}`}); `
    + `read by 'recsys train --params'\n`;
  await writeFileAtomic(path, header + stringify(params, { collectionStyle: "flow" }), { kind: "params", ...claim });
  return params;
}
