import { checkOutput, InputError, parseOrThrow, type OutputClaim } from "@recsys/core";
import { ModelGateFailedError } from "./errors.ts";
import { writeRecModel, type ModelMeta } from "@recsys/artifact";
import { loadRatingsAgainst, loadTrainingData, type TrainingData } from "./data.ts";
import { errorMetrics } from "./factors.ts";
import { scorerErrors, trainScorer, type Scorer } from "./scorer.ts";
import { BLEND_MEMBERS, type BlendScorer } from "./blend.ts";
import { gateVerdict, type GateVerdict } from "./gate.ts";
import { ENGINE_DEFAULTS, engineParams, TrainOptionsSchema, type TrainOptions } from "./options.ts";
import { eventTimeMs } from "./ratings.ts";
import { servingTensors } from "./serving.ts";
import { splitRatings } from "./split.ts";
import type { TrainModelHooks } from "./train-model.ts";
import { trainSgd } from "./sgd.ts";
import { loadTf } from "./tf-backend.ts";
import { implicitItems } from "./svdpp.ts";

export interface TrainAndGateInput extends TrainOptions {
  dataDir: string;
  /** The deployable model directory; created or replaced only when the gate passes. */
  outDir: string;
  /** A dataset whose ratings are the held-out set; without it the data is split (options.split). */
  holdoutDir?: string;
  /** Defaults to the dataset's last event time, so the same data and seed give the same bytes. */
  createdAt?: string;
  /** Replace an outDir recsys did not write (see core's checkOutput; never the data itself). */
  force?: boolean;
}

export interface EpochReport { epoch: number; epochs: number; trainRmse: number; heldOutRmse: number }

export interface TrainSummary {
  /** Where the artifact went: outDir, or `${outDir}.failed` when the gate failed. */
  dir: string;
  passed: boolean;
  meta: ModelMeta;
  gate: GateVerdict;
}

/**
 * Loads a dataset, holds out ratings (from `holdoutDir`, or a per-user split), trains, measures
 * held-out RMSE/MAE beside a biases-only baseline, and applies the gate (RMSE < gateRmse and
 * RMSE <= the baseline's RMSE on the same split; see gate.ts).
 * Passed: the artifact is written to `outDir` (atomically). Failed: it goes to `${outDir}.failed`
 * with gate.passed = false (loadRecModel refuses it) for inspection, `outDir` is left untouched,
 * and a ModelGateFailedError (a core GateFailedError: exit 3) names both figures and verdicts and
 * carries the rejected model's dir and metadata. Deterministic for data + seed.
 *
 *     const { meta } = await trainAndGate({ dataDir: "data", outDir: "models/m1", engine: "sgd" });
 */
export async function trainAndGate(input: TrainAndGateInput, hooks: TrainModelHooks & { onEpochReport?: (r: EpochReport) => void } = {}): Promise<TrainSummary> {
  const { dataDir, outDir, holdoutDir, createdAt, force, ...rest } = input;
  const options = parseOrThrow(TrainOptionsSchema, rest, "train options");
  const output = { inputs: [dataDir, holdoutDir], force };
  // Refused before minutes of training, not after.
  await checkOutput(outDir, "dir", { kind: "model", ...output });
  const params = engineParams(options);
  const data = await loadTrainingData(dataDir);
  const { train, test } = holdoutDir
    ? { train: data.ratings, test: await loadRatingsAgainst(holdoutDir, data.userIndex, data.movieIndex, data.scale) }
    : splitRatings(data.ratings, data.userIds.length, { mode: options.split, fraction: options.holdoutFraction, seed: options.seed });
  if (train.length === 0) throw new InputError("RECSYS_BAD_DATASET", `${dataDir}: no ratings to train on`);
  if (test.length === 0) throw new InputError("RECSYS_BAD_DATASET", `${holdoutDir ?? dataDir}: no held-out ratings (too few ratings per user to split; pass --holdout)`);

  hooks.log?.(`train: ${options.engine}, ${params.epochs} epochs on ${train.length} ratings (${test.length} held out) -> ${outDir}`);
  const nUsers = data.userIds.length, nItems = data.movieIds.length;
  const implicit = options.implicit === "svdpp" ? implicitItems(train, data.watches, test, nUsers, nItems) : undefined;
  const scale = data.scale;
  const dims = { train, nUsers, nItems, implicit, scale };
  const model = await trainScorer(dims, options.engine, params, {
    ...hooks,
    onEpoch: (epoch, trainRmse, m) => hooks.onEpochReport?.({ epoch, epochs: params.epochs, trainRmse, heldOutRmse: errorMetrics(m, test, scale).rmse }),
  });
  // The same biases-only SGD whatever the engine, so the baseline compares across engines.
  const baseline = await trainSgd(train, dims.nUsers, dims.nItems, { ...ENGINE_DEFAULTS.sgd, factors: 0 });
  const held = scorerErrors(model, test, scale);
  const metrics = {
    rmse: held.rmse, mae: held.mae, trainRmse: scorerErrors(model, train, scale).rmse,
    baselineRmse: errorMetrics(baseline, test, scale).rmse, trainRatings: train.length, heldOutRatings: test.length,
    ...blendWeights(model),
  };
  const lastEvent = data.manifest.timeRange.last ?? lastEventTime(data);
  const gate = gateVerdict(held.rmse, metrics.baselineRmse, options.gateRmse);
  const passed = gate.passed;
  const dir = passed ? outDir : `${outDir}.failed`;
  const meta = await writeArtifact(dir, data, model, {
    engine: options.engine,
    hyperParams: {
      ...params, implicit: options.implicit, split: holdoutDir ? "holdout-dir" : options.split, holdoutFraction: options.holdoutFraction,
      // Which TensorFlow.js backend trained it (`tensorflow` = tfjs-node's native one, `wasm` = WebAssembly, `cpu` = pure JS): say it where the model and --json are read.
      ...(options.engine === "tfjs" && { backend: (await loadTf(() => {})).getBackend() }),
    },
    metrics, gate,
    createdAt: createdAt ?? lastEvent,
  }, eventTimeMs(lastEvent), output);
  if (!passed) throw new ModelGateFailedError(dir, meta, gate);
  return { dir, passed, meta, gate };
}

interface ArtifactInfo {
  engine: string;
  hyperParams: Record<string, number | string | boolean>;
  metrics: Record<string, number>;
  gate: ModelMeta["gate"];
  createdAt: string;
}

/** `now` anchors the popularity decay: the data's last event, whatever createdAt says. */
async function writeArtifact(dir: string, data: TrainingData, scorer: Scorer, info: ArtifactInfo, now: number, output: Omit<OutputClaim, "kind">): Promise<ModelMeta> {
  const { groups, tensors } = servingTensors(data, now);
  const { factors: model, userItemScores } = scorer.serving();
  return writeRecModel(dir, {
    ...info, factors: model.k, globalMean: model.globalMean, ratingScale: data.scale, userIds: data.userIds, movieIds: data.movieIds, groups,
    dataHash: data.manifest.dataHash,
  }, {
    ...tensors, userFactors: model.userFactors, itemFactors: model.itemFactors, userBias: model.userBias, itemBias: model.itemBias,
    ...(userItemScores ? { userItemScores } : {}),
  }, output);
}

/** A blend's stacking weights as metrics (blendWeightIntercept, blendWeightMf, ...); nothing for other engines. */
function blendWeights(model: Scorer): Record<string, number> {
  if (!("weights" in model)) return {};
  const [intercept, ...members] = (model as BlendScorer).weights;
  return Object.fromEntries([["blendWeightIntercept", intercept!], ...BLEND_MEMBERS.map((m, j) => [`blendWeight${m[0]!.toUpperCase()}${m.slice(1)}`, members[j]!])]);
}

function lastEventTime(data: TrainingData): string {
  let last = 0;
  const scan = (s: { length: number; times: Float64Array }) => { for (let r = 0; r < s.length; r++) if (s.times[r]! > last) last = s.times[r]!; };
  scan(data.ratings); scan(data.watches);
  return new Date(last).toISOString();
}
