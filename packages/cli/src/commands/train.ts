import { z } from "zod";
import { createProgress } from "@recsys/core";
import { describeGate, ENGINE_DEFAULTS, ENGINE_NAMES, readParamsFile, trainAndGate, withParamsFile } from "@recsys/train";

const { sgd, tfjs, autorec, knn, blend } = ENGINE_DEFAULTS;
/** factors/epochs/lr/reg of an engine's defaults, as the help lists them (read from train's table, so they cannot drift). */
const factorsEpochsLrReg = (p: typeof sgd) => `${p.factors}/${p.epochs}/${p.lr}/${p.reg}`;
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, intFlag, noPositionals, numberFlag } from "../flags.ts";

export default defineCommand({
  name: "train",
  summary: "train a recommender on a dataset; gate on held-out RMSE and its baseline (exit 3 on failure)",
  help: `--data DIR --out MODEL_DIR [--force] [--params FILE] [--holdout DIR] [--engine sgd|tfjs|knn|blend|autorec]
       [--split random|time] [--holdout-fraction F] [--factors K] [--epochs E] [--lr X] [--reg X]
       [--batch-size B] [--neighbours N] [--shrinkage S] [--implicit none|svdpp] [--seed S]
       [--gate-rmse X] [--created-at ISO] [--json]

Trains biased matrix factorisation on DIR's ratings and writes the model artifact to MODEL_DIR
only if the held-out RMSE is below --gate-rmse AND no worse than a biases-only baseline fitted on
the same split; otherwise exits 3 and keeps the rejected model in MODEL_DIR.failed/ (marked
gate-failed, refused by every loader). DIR's files are first checked against its manifest's
hashes: a file changed since ingest is exit 2.
  --data DIR            canonical dataset (from 'recsys ingest')
  --out MODEL_DIR       artifact directory, created or replaced atomically when the gate passes
                        (replaced only if it holds a model; never the data)
${FORCE_HELP}
  --params FILE         params.yaml (train: and gate: sections, as 'recsys tune' writes it);
                        flags given on the command line override the file
  --holdout DIR         dataset whose ratings are the held-out set (default: split DIR itself)
  --split MODE          random: a seeded random share of each user's ratings (default);
                        time: each user's most recent ratings, as production sees the future
  --holdout-fraction F  share of each user's ratings held out by --split (default 0.2)
  --engine NAME         sgd (default; typed-array SGD), tfjs (TensorFlow.js, Adam), knn (item-item
                        kNN on baseline residuals, shrunk Pearson), blend (MF + SVD++ + kNN + I-AutoRec,
                        linear stacking fitted on a held-out fold) or autorec (I-AutoRec: an
                        item-based autoencoder; --factors = hidden units, --reg = lambda,
                        --batch-size = movies a step)
  --factors K --epochs E --lr X --reg X --batch-size B   hyper-parameters (engine defaults:
                        sgd ${factorsEpochsLrReg(sgd)}, tfjs ${factorsEpochsLrReg(tfjs)} with batches of ${tfjs.batchSize},
                        autorec ${factorsEpochsLrReg(autorec)} with ${autorec.batchSize} movies a step)
  --neighbours N --shrinkage S   knn and blend: neighbours per prediction (knn ${knn.neighbours},
                        blend ${blend.neighbours}), shrinkage (${knn.shrinkage})
  --implicit MODE       none (default): ratings only; svdpp: watches and ratings as SVD++
                        implicit feedback (sgd engine only; see packages/train/README.md)
  --seed S              random seed (default 42): same data and seed, byte-identical artifact
  --gate-rmse X         gate threshold (default 1.0)
  --created-at ISO      artifact time (default: the dataset's last event, for reproducibility)`,
  exits: ["gateFailed"],
  flags: {
    data: { type: "string" }, out: { type: "string" }, params: { type: "string" }, neighbours: { type: "string" }, shrinkage: { type: "string" }, holdout: { type: "string" }, engine: { type: "string" },
    split: { type: "string" }, "holdout-fraction": { type: "string" }, factors: { type: "string" },
    epochs: { type: "string" }, lr: { type: "string" }, reg: { type: "string" }, "batch-size": { type: "string" },
    implicit: { type: "string" }, seed: { type: "string" }, "gate-rmse": { type: "string" }, "created-at": { type: "string" }, ...FORCE_FLAG,
  },
  schema: z.object({
    data: z.string({ error: "--data DIR is required" }).min(1),
    out: z.string({ error: "--out MODEL_DIR is required" }).min(1),
    params: z.string().min(1).optional(),
    holdout: z.string().min(1).optional(),
    // No defaults here for what params.yaml may set: an absent flag must not override the file.
    engine: z.enum(ENGINE_NAMES).optional(),
    split: z.enum(["random", "time"]).default("random"),
    "holdout-fraction": numberFlag(0.01, 0.99).default(0.2),
    neighbours: intFlag(1, 10_000).optional(),
    shrinkage: numberFlag(0, 1e6).optional(),
    factors: intFlag(1, 1000).optional(),
    epochs: intFlag(1, 10_000).optional(),
    lr: numberFlag(1e-9, 10).optional(),
    reg: numberFlag(0, 100_000).optional(), // autorec's lambda is in the tens to hundreds
    "batch-size": intFlag(1, 1 << 20).optional(),
    implicit: z.enum(["none", "svdpp"]).optional(),
    seed: intFlag(0, 2 ** 32 - 1).optional(),
    "gate-rmse": numberFlag(1e-9, 100).optional(),
    "created-at": z.iso.datetime({ local: true, offset: true, error: "--created-at must be an ISO 8601 time" }).optional(),
    force: forceFlag,
    _: noPositionals,
  }),
  async run(o, io) {
    const progress = createProgress();
    const started = Date.now();
    const given = {
      engine: o.engine, factors: o.factors, epochs: o.epochs, lr: o.lr, reg: o.reg, batchSize: o["batch-size"],
      neighbours: o.neighbours, shrinkage: o.shrinkage, implicit: o.implicit, seed: o.seed, gateRmse: o["gate-rmse"],
    };
    const options = o.params ? withParamsFile(await readParamsFile(o.params), given) : given;
    const { dir, meta, gate } = await trainAndGate({
      ...options, dataDir: o.data, outDir: o.out, holdoutDir: o.holdout, createdAt: o["created-at"],
      split: o.split, holdoutFraction: o["holdout-fraction"], force: o.force,
    }, {
      log: (line) => io.stderr.write(line + "\n"),
      onEpochReport: (r) => progress.update(`epoch ${r.epoch}/${r.epochs}  train RMSE ${r.trainRmse.toFixed(4)}  held-out RMSE ${r.heldOutRmse.toFixed(4)}`),
    }).finally(() => progress.done());
    const m = meta.metrics, seconds = (Date.now() - started) / 1000;
    const text = `wrote ${dir}: ${meta.engine}, ${meta.userIds.length} users x ${meta.movieIds.length} movies, k=${meta.factors}; `
      + `gate passed: ${describeGate(gate)}; `
      + `MAE ${m.mae!.toFixed(4)}, ${m.trainRatings} train / ${m.heldOutRatings} held-out ratings, ${seconds.toFixed(1)} s; model ${meta.modelHash.slice(0, 12)}`;
    return { summary: { dir, engine: meta.engine, modelHash: meta.modelHash, dataHash: meta.dataHash, metrics: m, gate: meta.gate, hyperParams: meta.hyperParams, seconds }, text };
  },
});
