import { z } from "zod";
import { ENGINE_NAMES } from "./engine.ts";
import { readYamlConfig } from "./yaml-config.ts";
import { MODEL_OPTIONS, type TrainOptions } from "./options.ts";

/**
 * params.yaml: the hyper-parameters the DVC pipeline, `recsys train --params` and `recsys tune
 * --out` share. Layout fixed by the pipeline:
 *
 *     train: {engine: sgd, factors: 100, epochs: 20, lr: 0.01, reg: 0.1, seed: 42}
 *     gate:  {rmse: 1.0}
 *     serve: {exploration: 0.1}
 *
 * Every section and key is optional; an unknown key is an error (a typo must not silently train
 * with the default). `train` takes the keys of TrainOptions that describe the model.
 */
export const ParamsFileSchema = z.object({
  train: z.object({
    engine: z.enum(ENGINE_NAMES).optional(),
    ...MODEL_OPTIONS,
    implicit: z.enum(["none", "svdpp"]).optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  }).strict().optional(),
  gate: z.object({ rmse: z.number().positive().max(100).optional() }).strict().optional(),
  serve: z.object({ exploration: z.number().min(0).max(0.5).optional() }).strict().optional(),
}).strict();
export type ParamsFile = z.infer<typeof ParamsFileSchema>;

/**
 * Reads params.yaml (see ParamsFileSchema). A bad file is an InputError (exit 2) naming file,
 * line and key, e.g. `params.yaml:4: train.lrate: unknown key (allowed: engine, factors, ...)`.
 *
 *     const params = await readParamsFile("params.yaml");
 */
export async function readParamsFile(path: string): Promise<ParamsFile> {
  return readYamlConfig(ParamsFileSchema, path, "RECSYS_BAD_PARAMS");
}

/**
 * Train options from a params file overridden by the ones given explicitly (flags): a key left
 * undefined in `given` keeps the file's value, and the file's keys the engine defaults'.
 *
 *     trainAndGate({ ...withParamsFile(file, flags), dataDir, outDir });
 */
export function withParamsFile(file: ParamsFile, given: TrainOptions): TrainOptions {
  const fromFile: TrainOptions = { ...file.train, ...(file.gate?.rmse === undefined ? {} : { gateRmse: file.gate.rmse }) };
  const explicit = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...fromFile, ...explicit };
}
