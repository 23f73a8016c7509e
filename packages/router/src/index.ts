export { createRouter } from "./router.ts";
export type { Router, RouterAddress, RouterState, RouterDeps } from "./router.ts";
export { RouterConfigSchema, DEFAULT_RELEASES, parseRouterConfig, loadRouterConfig } from "./config.ts";
export type { RouterConfig, RouterConfigInput } from "./config.ts";
export {
  ReleaseSchema, ReleasesSchema, UpstreamUrlSchema, WeightsChangeSchema,
  applyWeights, rollback, promote, setReleaseUpstreams, checkReleases,
} from "./state.ts";
export type { Release, WeightsChange } from "./state.ts";
export { BUCKETS, userBucket, assignRelease } from "./assign.ts";
export { RouterError, ROUTER_ERRORS } from "./errors.ts";
export { startStubUpstream, spawnStubUpstream, STUB_IDS } from "./stub-upstream.ts";
export type { StubUpstream, StubUpstreamOptions, SpawnedStub } from "./stub-upstream.ts";
