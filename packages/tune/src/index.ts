export { tune, chooseBest, rmseTies } from "./search.ts";
export type { TuneData, TuneOptions, TuneResult, Trial, DataScore, TuneHooks } from "./search.ts";
export { DEFAULT_SPACES, SpaceSchema, readSpaceFile, drawConfig, rungEpochs } from "./space.ts";
export type { Space } from "./space.ts";
export { assignFolds, foldSplit } from "./folds.ts";
export { writeBestParams } from "./params-out.ts";
export { trialsTable } from "./table.ts";
