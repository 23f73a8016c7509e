import type { Release } from "./state.ts";

/** Users fall into one of this many buckets; a weight of 1 point is 100 buckets. */
export const BUCKETS = 10_000;

/**
 * The user's bucket in [0, BUCKETS). This is a contract, fixed across router processes,
 * restarts and versions (a canary's users must stay the same users for a whole analysis, and
 * two routers must agree): FNV-1a 32-bit over the canonical id's characters (offset basis
 * 0x811c9dc5, prime 0x01000193), then murmur3's fmix32 finaliser so consecutive ids spread over
 * the low digits too, then modulo BUCKETS. It is written out here rather than borrowed, so a
 * change to any shared hash can never move users. Known values: "1" -> 5071, "42" -> 6589,
 * "4242" -> 5589 (test/assign.test.ts pins more).
 *
 *     userBucket("42") // 6589, in every router process
 */
export function userBucket(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % BUCKETS;
}

/**
 * Orders releases canary first and returns each one's exclusive upper bucket bound. Laying the
 * canary at the bottom of the range means raising its weight only moves stable users into the
 * canary (and lowering it only moves them back): nobody hops between groups otherwise.
 */
export function bucketLayout(releases: readonly Release[]): { order: Release[]; upper: Uint16Array } {
  const order = [...releases].sort((a, b) => (a.role === b.role ? 0 : a.role === "canary" ? -1 : 1));
  const upper = new Uint16Array(order.length);
  let acc = 0;
  order.forEach((r, i) => { acc += r.weight * (BUCKETS / 100); upper[i] = acc; });
  return { order, upper };
}

/** Index into `bucketLayout(...).order` of the release that owns `bucket`. */
export function releaseIndexForBucket(upper: Uint16Array, bucket: number): number {
  for (let i = 0; i < upper.length; i++) if (bucket < upper[i]) return i;
  return upper.length - 1;
}

/**
 * The release a user is routed to under `releases` (health aside).
 *
 *     assignRelease(releases, "42").id // "canary" for about 20% of users
 */
export function assignRelease(releases: readonly Release[], userId: string): Release {
  const { order, upper } = bucketLayout(releases);
  return order[releaseIndexForBucket(upper, userBucket(userId))];
}
