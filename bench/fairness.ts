/**
 * Fairness report time on MovieLens-shaped synthetic data (packages/train synthetic.ts: users
 * with age and gender, a known low-rank model plus noise) at ~100k and 1M ratings, with the
 * default 1,000 bootstrap resamples and 1,000 permutations. The model is trained first (sgd,
 * default k = 100, 5 epochs: the epochs do not change the report's cost), then the report is
 * built from its own split and written; prints seconds per phase and the peak RSS.
 *
 *     npx tsx bench/fairness.ts            # 100k and 1M
 *     npx tsx bench/fairness.ts 100k
 *
 * Target (issue 12): the 1M report in under 60 s on 2 cores.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ML100K_LIKE, trainAndGate, writeSyntheticDataset, type SyntheticOptions } from "@recsys/train";
import { buildFairnessReport, FAIRNESS_DEFAULTS, writeFairnessReport } from "@recsys/fairness";

const DATASETS: Record<string, SyntheticOptions> = {
  "100k": ML100K_LIKE,
  "1M": { ...ML100K_LIKE, users: 6040, items: 3706, ratings: 1_000_000, seed: 8 },
};

const root = await mkdtemp(join(tmpdir(), "bench-fairness-"));
try {
  for (const name of process.argv.length > 2 ? process.argv.slice(2) : Object.keys(DATASETS)) {
    const o = DATASETS[name];
    if (!o) throw new Error(`unknown dataset ${name} (${Object.keys(DATASETS).join(", ")})`);
    const data = join(root, `${name}-data`), model = join(root, `${name}-model`);
    await writeSyntheticDataset(data, o);
    await trainAndGate({ dataDir: data, outDir: model, epochs: 5 });
    const t0 = performance.now();
    let mark = t0, current = "";
    const phases: string[] = [];
    const closePhase = (now: number) => { if (current) phases.push(`${current} ${((now - mark) / 1000).toFixed(1)} s`); mark = now; };
    const report = await buildFairnessReport({
      modelDir: model, dataDir: data, config: FAIRNESS_DEFAULTS, seed: 42,
      onProgress: (text) => { closePhase(performance.now()); current = text; },
    });
    const built = performance.now();
    closePhase(built);
    await writeFairnessReport(join(root, `${name}-report`), report);
    const end = performance.now();
    console.log(`${name}: ${report.data.ratings} ratings, ${report.data.users} users, ${report.heldOut.ratings} held out; report ${((end - t0) / 1000).toFixed(1)} s (analysis ${((built - t0) / 1000).toFixed(1)} s, html + json ${((end - built) / 1000).toFixed(1)} s), peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
    console.log(`  ${phases.join("; ")}`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
