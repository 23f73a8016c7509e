import { z } from "zod";
import { createProgress } from "@recsys/core";
import { describeGate, trainAndGate } from "@recsys/train";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, intFlag, noPositionals, numberFlag, seedFlag } from "../flags.ts";

export default defineCommand({
  name: "train",
  summary: "train matrix factorisation on a dataset; gate on held-out RMSE and its baseline (exit 3 on failure)",
  help: `--data DIR --out MODEL_DIR [--force] [--holdout DIR] [--engine sgd|tfjs] [--split random|time]
       [--holdout-fraction F] [--factors K] [--epochs E] [--lr X] [--reg X] [--batch-size B]
       [--implicit none|svdpp] [--seed S] [--gate-rmse X] [--created-at ISO] [--json]

Trains biased matrix factorisation on DIR's ratings and writes the model artifact to MODEL_DIR
only if the held-out RMSE is below --gate-rmse AND no worse than a biases-only baseline fitted on
the same split; otherwise exits 3 and keeps the rejected model in MODEL_DIR.failed/ (marked
gate-failed, refused by every loader). DIR's files are first checked against its manifest's
hashes: a file changed since ingest is exit 2.
  --data DIR            canonical dataset (from 'recsys ingest')
  --out MODEL_DIR       artifact directory, created or replaced atomically when the gate passes
                        (replaced only if it holds a model; never the data)
${FORCE_HELP}
  --holdout DIR         dataset whose ratings are the held-out set (default: split DIR itself)
  --split MODE          random: a seeded random share of each user's ratings (default);
                        time: each user's most recent ratings, as production sees the future
  --holdout-fraction F  share of each user's ratings held out by --split (default 0.2)
  --engine NAME         sgd (default; typed-array SGD) or tfjs (TensorFlow.js, Adam)
  --factors K --epochs E --lr X --reg X --batch-size B   hyper-parameters (engine defaults:
                        sgd 100/20/0.015/0.1, tfjs 100/10/0.005/0.2 with batches of 256)
  --implicit MODE       none (default): ratings only; svdpp: watches and ratings as SVD++
                        implicit feedback (sgd engine only; see packages/train/README.md)
  --seed S              random seed (default 42): same data and seed, byte-identical artifact
  --gate-rmse X         gate threshold (default 1.0)
  --created-at ISO      artifact time (default: the dataset's last event, for reproducibility)`,
  exits: ["gateFailed"],
  flags: {
    data: { type: "string" }, out: { type: "string" }, holdout: { type: "string" }, engine: { type: "string" },
    split: { type: "string" }, "holdout-fraction": { type: "string" }, factors: { type: "string" },
    epochs: { type: "string" }, lr: { type: "string" }, reg: { type: "string" }, "batch-size": { type: "string" },
    implicit: { type: "string" }, seed: { type: "string" }, "gate-rmse": { type: "string" }, "created-at": { type: "string" }, ...FORCE_FLAG,
  },
  schema: z.object({
    data: z.string({ error: "--data DIR is required" }).min(1),
    out: z.string({ error: "--out MODEL_DIR is required" }).min(1),
    holdout: z.string().min(1).optional(),
    engine: z.enum(["sgd", "tfjs"]).default("sgd"),
    split: z.enum(["random", "time"]).default("random"),
    "holdout-fraction": numberFlag(0.01, 0.99).default(0.2),
    factors: intFlag(1, 1000).optional(),
    epochs: intFlag(1, 10_000).optional(),
    lr: numberFlag(1e-9, 10).optional(),
    reg: numberFlag(0, 100).optional(),
    "batch-size": intFlag(1, 1 << 20).optional(),
    implicit: z.enum(["none", "svdpp"]).default("none"),
    seed: seedFlag,
    "gate-rmse": numberFlag(1e-9, 100).default(1.0),
    "created-at": z.iso.datetime({ local: true, offset: true, error: "--created-at must be an ISO 8601 time" }).optional(),
    force: forceFlag,
    _: noPositionals,
  }),
  async run(o, io) {
    const progress = createProgress();
    const started = Date.now();
    const { dir, meta, gate } = await trainAndGate({
      dataDir: o.data, outDir: o.out, holdoutDir: o.holdout, createdAt: o["created-at"],
      engine: o.engine, split: o.split, holdoutFraction: o["holdout-fraction"], factors: o.factors, epochs: o.epochs,
      lr: o.lr, reg: o.reg, batchSize: o["batch-size"], implicit: o.implicit, seed: o.seed, gateRmse: o["gate-rmse"], force: o.force,
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
