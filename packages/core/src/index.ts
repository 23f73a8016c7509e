export { EXIT, EXIT_MEANING, RecsysError, InputError, GateFailedError, describeIssues } from "./errors.ts";
export { parseOrThrow, readJsonFile } from "./validate.ts";
export type { ExitName } from "./errors.ts";
export { writeFileAtomic, writeDirAtomic, claimOutputDir } from "./atomic.ts";
export { checkOutput, outputToken, OUTPUT_MARKER } from "./output.ts";
export type { OutputKind, OutputClaim } from "./output.ts";
export { abandonPendingWrites, describeInterruption } from "./pending.ts";
export type { AbandonedOutput } from "./pending.ts";
export { createRng, hashString } from "./rng.ts";
export type { Rng } from "./rng.ts";
export { createProgress } from "./progress.ts";
export type { Progress } from "./progress.ts";
export { md5File, md5Dir, listDataFiles, dirListing } from "./hash.ts";
export { formatEventTime, formatWatchLine, formatRateLine, formatRequestLine, encodeRequestLine, requestLineBound, putEventTime } from "./event-format.ts";
export { putText, putInt, putBytes, putComma } from "./byte-writer.ts";
export {
  DATASET_SCHEMA_VERSION, DATASET_FILES, RATINGS_HEADER, WATCHES_HEADER, REQUESTS_HEADER, TELEMETRY_HEADER,
  UserIdSchema, MovieIdSchema, UserSchema, GenreSchema, MovieSchema, ManifestSchema,
  RatingScaleSchema, STREAM_RATING_SCALE, onRatingScale, clipToScale, formatRatingScale, parseRatingScale, ratingScaleOf,
  readManifest, verifyDatasetFiles, readRatings, readWatches, readJsonLines, readUsers, readMovies,
} from "./dataset.ts";
export type { User, Movie, Manifest, RatingScale, RatingRow, WatchRow, TelemetryFields } from "./dataset.ts";
export { AGE_BANDS, ageBand, normalizeGender, demographicGroup } from "./demographics.ts";
export { createLineLog } from "./line-log.ts";
export { openLogStream, withoutPlainTwins } from "./log-stream.ts";
export type { LineLog, LineLogOptions } from "./line-log.ts";
export { parseEventTime, formatEventTimeUs, normalizeEventTime } from "./event-time.ts";
export { bearerTokenMatches } from "./auth.ts";
export { sleep, sleepUnless } from "./sleep.ts";
export { csvField, readCsvLines, splitCsvLine } from "./csv-lines.ts";
export { MAX_USER_ID, parseUserId, userIdFromSegment } from "./user-id.ts";
export { createHardenedServer, closeServer } from "./http-server.ts";
export type { HttpLimits } from "./http-server.ts";
