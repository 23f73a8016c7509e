export { createWorld, userIndexOf, movieIndexOf, WorldOptionsSchema } from "./world.ts";
export type { World, WorldOptions } from "./world.ts";
export { writeSimulation, WriteOptionsSchema, SIM_FILES, LEGACY_SERVER, TIMEOUT_TEXT } from "./write.ts";
export type { WriteOptions, SimulationSummary } from "./write.ts";
export {
  respondToRecommendations, sampleActiveUser, trueRating, expectedListValue, idealRecommendations,
  chooseFromList, browsePick, watchOutcome, CHOICE,
} from "./choice.ts";
export type { Response, WatchOutcome } from "./choice.ts";
export { expectedScore, affinity, drawRating, DEFAULT_TRUTH } from "./truth.ts";
export type { Truth, TruthOptions } from "./truth.ts";
export { writeTruth, readTruth, TRUTH_FILES, TruthMetaSchema } from "./truth-files.ts";
export type { TruthMeta } from "./truth-files.ts";
export { movieSlug } from "./population.ts";
export { DIRT, DIRT_REJECTS } from "./dirty.ts";
export type { DirtCounts, DirtReject } from "./dirty.ts";
export { TRAFFIC } from "./planner.ts";
export { SIM_ERRORS } from "./errors.ts";
