import { hashString } from "@recsys/core";
import type { Release } from "./state.ts";

/** Users fall into one of this many buckets; a weight of 1 point is 100 buckets. */
export const BUCKETS = 10_000;

/**
 * The user's bucket in [0, BUCKETS): a stable hash of the user id (core's FNV-1a, then a
 * murmur3 finaliser so consecutive ids spread over the low digits too). The same user always
 * lands in the same bucket, in every router process, so an experiment's groups never mix.
 *
 *     userBucket("12345") // always the same number
 */
export function userBucket(userId: string): number {
  let h = hashString(userId);
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
