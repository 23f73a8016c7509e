import { createRng } from "@recsys/core";
import { writeRecModel, type ModelMeta } from "@recsys/artifact";

export interface SyntheticModelOptions {
  users?: number;
  movies?: number;
  factors?: number;
  /** Items each known user has seen (rated or watched). */
  seenPerUser?: number;
  seed?: number;
  /** Demographic groups, e.g. ["F:18-24", "M:25-34"]. */
  groups?: string[];
  /** Extra side-information users the model never saw (cold start with a group). */
  sideOnlyUsers?: number;
  gatePassed?: boolean;
}

/**
 * Writes a random but well-formed RecModel artifact for tests, benches and demos: user ids
 * 0, 2, 4… (so odd ids are unknown), movie ids `movie+<i>+<year>`, Gaussian factors, a Zipf
 * popularity over a shuffled catalogue, a different popularity order per group, and side
 * information for every known user plus `sideOnlyUsers` unknown ones (ids ≥ 2·users, odd).
 *
 *     const meta = await writeSyntheticRecModel("/tmp/m", { users: 5000, movies: 2000, factors: 64 });
 */
export async function writeSyntheticRecModel(dir: string, options: SyntheticModelOptions = {}): Promise<ModelMeta> {
  const { users = 200, movies = 300, factors = 8, seenPerUser = 10, seed = 1, groups = ["F:18-24", "M:25-34"], sideOnlyUsers = 20, gatePassed = true } = options;
  const rng = createRng(seed);
  const gauss = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  const zipfOverShuffle = () => {
    const order = shuffled(movies, rng);
    const pop = new Float32Array(movies);
    order.forEach((item, rank) => (pop[item] = 1000 / (rank + 1)));
    return pop;
  };
  const seenOffsets = new Uint32Array(users + 1);
  const seen: number[] = [];
  for (let u = 0; u < users; u++) {
    const picks = new Set<number>();
    while (picks.size < Math.min(seenPerUser, movies)) picks.add(rng.int(movies));
    seen.push(...[...picks].sort((a, b) => a - b));
    seenOffsets[u + 1] = seen.length;
  }
  const sideIds = [...Array.from({ length: users }, (_, u) => 2 * u), ...Array.from({ length: sideOnlyUsers }, (_, j) => 2 * users + 2 * j + 1)];
  const groupPopularity = new Float32Array(groups.length * movies);
  groups.forEach((_, g) => groupPopularity.set(zipfOverShuffle(), g * movies));
  return writeRecModel(dir, {
    engine: "synthetic", hyperParams: { seed }, factors, globalMean: 3.5,
    userIds: Array.from({ length: users }, (_, u) => 2 * u),
    movieIds: Array.from({ length: movies }, (_, i) => `movie+${i}+${1950 + (i % 70)}`),
    groups, metrics: { rmse: 0.9 },
    gate: { metric: "rmse", threshold: 1, value: gatePassed ? 0.9 : 1.1, passed: gatePassed },
    dataHash: "0".repeat(32), createdAt: "2026-01-01T00:00:00.000Z",
  }, {
    userFactors: gauss(users * factors, 0.3), itemFactors: gauss(movies * factors, 0.3),
    userBias: gauss(users, 0.1), itemBias: gauss(movies, 0.1),
    seenOffsets, seenItems: Uint32Array.from(seen),
    itemPopularity: zipfOverShuffle(), groupPopularity,
    sideUserIds: Uint32Array.from(sideIds),
    sideUserGroups: Uint8Array.from(sideIds, (_, j) => (groups.length ? j % groups.length : 255)),
  });
}

function shuffled(n: number, rng: { int(n: number): number }): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
