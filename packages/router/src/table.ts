import { bucketLayout, releaseIndexForBucket, userBucket } from "./assign.ts";
import type { ReleaseSeries } from "./metrics.ts";
import type { Release } from "./state.ts";
import { createUpstream, type Upstream } from "./upstreams.ts";

/** A release as the request path sees it: upstream health records and a round-robin cursor. */
export interface LiveRelease {
  readonly id: string;
  readonly role: "stable" | "canary";
  readonly weight: number;
  readonly upstreams: readonly Upstream[];
  readonly series: ReleaseSeries;
  next: number;
}

/** The routing table, rebuilt (never mutated) on every state change. */
export interface RouteTable {
  readonly releases: readonly Release[];
  /** Canary first, as the bucket layout orders them. */
  readonly order: readonly LiveRelease[];
  readonly upper: Uint16Array;
  readonly stable: LiveRelease;
}

/**
 * Builds a table from a validated release list, reusing the health records of upstreams that
 * stay (a weight change must not forget that a replica is down) and dropping the others.
 */
export function buildTable(releases: readonly Release[], health: Map<string, Upstream>, series: (id: string) => ReleaseSeries): RouteTable {
  const { order, upper } = bucketLayout(releases);
  const keep = new Set<string>();
  const live = order.map((r): LiveRelease => ({
    id: r.id,
    role: r.role,
    weight: r.weight,
    upstreams: r.upstreams.map((url) => {
      keep.add(url);
      let up = health.get(url);
      if (!up) health.set(url, (up = createUpstream(url)));
      return up;
    }),
    series: series(r.id),
    next: 0,
  }));
  for (const url of [...health.keys()]) if (!keep.has(url)) health.delete(url);
  return { releases, order: live, upper, stable: live.find((r) => r.role === "stable")! };
}

/** The release that owns this user's bucket; the stable release when there is no user. */
export function releaseFor(table: RouteTable, userId: string | null): LiveRelease {
  return userId === null ? table.stable : table.order[releaseIndexForBucket(table.upper, userBucket(userId))];
}

/**
 * Next upstream of `rel` other than `exclude`, round-robin: a healthy one, or with `anyHealth`
 * any one at all. Null if there is none.
 */
export function pickUpstream(rel: LiveRelease, exclude: Upstream | null, anyHealth = false): Upstream | null {
  const n = rel.upstreams.length;
  for (let k = 0; k < n; k++) {
    const i = (rel.next + k) % n;
    const up = rel.upstreams[i];
    if ((anyHealth || up.healthy) && up !== exclude) {
      rel.next = (i + 1) % n;
      return up;
    }
  }
  return null;
}

/** Where the current try of a request goes; filled in place by {@link chooseTarget}. */
export interface Target {
  servedBy: LiveRelease;
  upstream: Upstream | null;
}

/**
 * Points `out` at the next try: an upstream of the user's release, else of the stable release,
 * else of a canary that has traffic anyway (a rolled-back canary, weight 0, never gets a stray
 * user). Healthy upstreams first; when none is healthy anywhere, health marks may be stale (a
 * check that timed out on a busy machine), so it tries any upstream in the same order before
 * giving up ("panic routing", as Envoy calls it). Returns false, leaving `out` alone, when
 * there is nothing left to try.
 */
export function chooseTarget(table: RouteTable, assigned: LiveRelease, exclude: Upstream | null, out: Target): boolean {
  return chooseIn(table, assigned, exclude, out, false) || chooseIn(table, assigned, exclude, out, true);
}

function chooseIn(table: RouteTable, assigned: LiveRelease, exclude: Upstream | null, out: Target, anyHealth: boolean): boolean {
  let rel = assigned;
  let up = pickUpstream(rel, exclude, anyHealth);
  if (!up && assigned !== table.stable) up = pickUpstream((rel = table.stable), exclude, anyHealth);
  for (let i = 0; !up && i < table.order.length; i++) {
    rel = table.order[i];
    if (rel !== assigned && rel !== table.stable && rel.weight > 0) up = pickUpstream(rel, exclude, anyHealth);
  }
  if (!up) return false;
  out.servedBy = rel;
  out.upstream = up;
  return true;
}
