import type { Replica, ReplicaDriver } from "./driver.ts";
import type { RouterAdmin, RouterRelease } from "./router-admin.ts";
import { withReplicas, writePlatformState, type PlatformState } from "./state.ts";

/** What the rollout steps act on; `state` is replaced (and written) after every step. */
export interface Session {
  driver: ReplicaDriver;
  router: RouterAdmin;
  stateDir: string;
  state: Omit<PlatformState, "updatedAt">;
  drainMs: number;
  log: (line: string) => void;
}

/** Records replicas started or stopped in state.json right away, so a crash leaves an accurate map. */
export async function track(s: Session, add: Replica[], remove: Replica[] = []): Promise<void> {
  s.state = withReplicas(s.state, add, remove);
  await writePlatformState(s.stateDir, s.state);
}

/** Router first stops sending new requests to it, then the replica drains and stops. */
export async function retire(s: Session, replicas: Replica[]): Promise<void> {
  await Promise.all(replicas.map((r) => s.driver.stop(r, { drainMs: s.drainMs })));
  await track(s, [], replicas);
}

/** Integer weights proportional to replica counts, so every replica carries an equal share. */
export function proportionalWeight(newCount: number, oldCount: number): number {
  return oldCount === 0 ? 100 : Math.round((100 * newCount) / (newCount + oldCount));
}

const table = (stableId: string, stableUrls: string[], canaryId: string, canaryUrls: string[], canaryWeight: number): RouterRelease[] => [
  { id: stableId, role: "stable", upstreams: stableUrls, weight: 100 - canaryWeight },
  { id: canaryId, role: "canary", upstreams: canaryUrls, weight: canaryWeight },
];

/**
 * Promote: start replicas of the canary's model one at a time; each joins the new release in
 * one router change that also takes an old stable replica out (weights follow the replica
 * counts); then that old replica drains and stops. Last, the new release becomes the stable one
 * with weight 100 (the standard layout for the next canary), and the canary replica, which no
 * longer gets traffic, drains and stops: the stable set is uniform, fresh replicas only.
 * Never is there a moment without a ready replica behind every weighted release.
 */
export async function promoteCanary(s: Session, canary: Replica, env: Record<string, string>, nextStable: PlatformState["stable"]): Promise<Replica[]> {
  const stableId = s.state.stable.releaseId;
  const old = s.state.replicas.filter((r) => r.releaseId === stableId);
  const count = Math.max(old.length, 1);
  const fresh: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const next = await s.driver.start({ releaseId: canary.releaseId, modelDir: canary.modelDir, env });
    fresh.push(next);
    await track(s, [next]);
    const leaving = old.slice(i, i + 1);
    const staying = old.slice(i + 1);
    const urls = [canary.url, ...fresh.map((r) => r.url)];
    await s.router.setReleases(table(stableId, staying.map((r) => r.url), canary.releaseId, urls, proportionalWeight(urls.length, staying.length)));
    s.log(`promote: ${next.id} serves ${canary.releaseId}${leaving.length ? `, ${leaving[0]!.id} drains` : ""}`);
    await retire(s, leaving);
  }
  await s.router.setReleases([{ id: canary.releaseId, role: "stable", upstreams: fresh.map((r) => r.url), weight: 100 }]);
  s.state = { ...s.state, stable: nextStable };
  await retire(s, [canary]);
  return fresh;
}

/** Rollback: canary weight 0 at once, then the canary leaves the table, drains and stops. */
export async function rollbackCanary(s: Session, canary: Replica | null): Promise<void> {
  const releases = await s.router.releases();
  if (releases.some((r) => r.role === "canary" && r.weight > 0)) await s.router.rollback();
  const stable = releases.find((r) => r.role === "stable");
  if (stable && releases.length > 1) await s.router.setReleases([{ ...stable, weight: 100 }]);
  if (canary) await retire(s, [canary]);
}
