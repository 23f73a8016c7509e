import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { ingestEvents } from "@recsys/ingest";
import { ENGINE_DEFAULTS, loadTrainingData, servingTensors, trainModel, eventTimeMs, type FactorModel, type TrainingData } from "@recsys/train";
import type { RecModel } from "@recsys/artifact";

/**
 * Training settings of the loop's model: train's sgd engine with 20 factors, lr 0.015 and the
 * strong regularisation (0.3) the loop's sparse simulated world needs, pinned so that a change of
 * train's defaults does not change the experiment (its figures are in bench/RESULTS.md).
 */
export const LOOP_TRAINING = { ...ENGINE_DEFAULTS.sgd, factors: 20, epochs: 20, lr: 0.015, reg: 0.3 } as const;

export interface RetrainInput {
  /** The simulated history before the loop (an events.log from writeSimulation). */
  historyEvents: string;
  /** The loop's event lines so far, one block per round, each block time-ordered and ending in "\n". */
  loopBlocks: readonly string[];
  usersFile: string;
  moviesFile: string;
  /** Where the dataset is (re)written; an earlier dataset there is replaced. */
  datasetDir: string;
  /** Names the model (its modelHash seeds the API's exploration draw together with user and day). */
  label: string;
}

export interface Retrained {
  model: RecModel;
  factors: FactorModel;
  data: TrainingData;
}

async function* history(input: RetrainInput): AsyncIterable<Buffer | string> {
  yield* createReadStream(input.historyEvents);
  yield* input.loopBlocks;
}

/**
 * The platform's own path from events to a served model, in-process: the whole history (the
 * simulated past plus every loop round) goes through ingest into a canonical dataset, train's
 * sgd fits biased MF on all of its ratings (no hold-out: the loop scores each model on the next
 * round's fresh ratings instead), and the serving tensors complete a RecModel that the API's
 * `recommend` serves. The model is never written to disk, so it has no gate verdict.
 *
 *     const { model } = await ingestAndTrain({ historyEvents, loopBlocks, usersFile, moviesFile, datasetDir, label: "s1-e0.1-r3" });
 */
export async function ingestAndTrain(input: RetrainInput): Promise<Retrained> {
  await ingestEvents({ input: history(input), inputName: "the loop's event history", usersFile: input.usersFile, moviesFile: input.moviesFile, outDir: input.datasetDir });
  const data = await loadTrainingData(input.datasetDir);
  const nUsers = data.userIds.length, nItems = data.movieIds.length;
  // One thread: runs of the experiment already fill the cores.
  const factors = await trainModel({ train: data.ratings, nUsers, nItems }, "sgd", LOOP_TRAINING, { threads: 1 });
  const last = data.manifest.timeRange.last ?? new Date(0).toISOString();
  const { groups, tensors } = servingTensors(data, eventTimeMs(last));
  const model: RecModel = {
    meta: {
      formatVersion: 1, engine: "sgd", hyperParams: { ...LOOP_TRAINING }, factors: factors.k, globalMean: factors.globalMean,
      userIds: data.userIds, movieIds: data.movieIds, groups, metrics: {},
      gate: { metric: "rmse", threshold: Infinity, value: NaN, passed: true },
      dataHash: data.manifest.dataHash, createdAt: last, tensors: {},
      modelHash: createHash("sha256").update(`${input.label}|${data.manifest.dataHash}`).digest("hex"),
    },
    nUsers, nItems, k: factors.k,
    userFactors: factors.userFactors, itemFactors: factors.itemFactors, userBias: factors.userBias, itemBias: factors.itemBias,
    ...tensors,
  };
  return { model, factors, data };
}
