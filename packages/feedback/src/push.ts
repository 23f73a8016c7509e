import { ageBand, normalizeGender, type User } from "@recsys/core";
import { trueRating, type World } from "@recsys/simulator";

/** The group labels a user belongs to: `gender:F`, `age:25-34` (none without the field). */
export function groupsOf(user: User): string[] {
  const out: string[] = [];
  if (user.gender !== undefined) out.push(`gender:${normalizeGender(user.gender)}`);
  if (user.age !== undefined) out.push(`age:${ageBand(user.age)}`);
  return out;
}

/** The brief's group loop: one movie put first in one group's lists for the first few rounds. */
export interface PushPlan {
  movieId: string;
  /** A label as groupsOf gives it, e.g. `gender:F`. */
  group: string;
  /** Rounds 1..rounds carry the push. */
  rounds: number;
  /** Share of the world's users in the group: the audience share a push-free world would hover near. */
  groupShare: number;
}

/**
 * Picks the movie to push so that what happens to its audience is the loop's doing, not taste:
 * among movies of middling popularity (40th to 60th percentile of the browsing weight, so it is
 * neither already everywhere nor unknown), the one whose mean true rating inside and outside the
 * group differ least, among those at least as liked as the middle one. Deterministic per world.
 */
export function planPush(world: World, group: string, rounds: number): PushPlan {
  const inGroup = world.users.map((u) => groupsOf(u).includes(group));
  const members = inGroup.filter(Boolean).length;
  const pop = world.truth.popularity;
  const order = Array.from(pop.keys()).sort((a, b) => pop[a]! - pop[b]! || a - b);
  const band = order.slice(Math.floor(0.4 * order.length), Math.max(Math.floor(0.4 * order.length) + 1, Math.floor(0.6 * order.length)));
  const scored = band.map((i) => {
    let sIn = 0, sOut = 0;
    world.users.forEach((u, r) => { const t = trueRating(world, u.user_id, world.movieIds[i]!); if (inGroup[r]) sIn += t; else sOut += t; });
    const mean = (sIn + sOut) / world.users.length;
    return { i, mean, gap: Math.abs(sIn / Math.max(1, members) - sOut / Math.max(1, world.users.length - members)) };
  });
  const median = [...scored].sort((a, b) => a.mean - b.mean)[Math.floor(scored.length / 2)]!.mean;
  const pick = scored.filter((s) => s.mean >= median).sort((a, b) => a.gap - b.gap || a.i - b.i)[0]!;
  return { movieId: world.movieIds[pick.i]!, group, rounds, groupShare: members / world.users.length };
}

/** The list with the pushed movie moved or put first (the last slot makes room), unless the user has seen it. */
export function withPush(ids: readonly string[], movieId: string, seen: boolean): string[] {
  if (seen) return [...ids];
  const rest = ids.filter((id) => id !== movieId);
  return [movieId, ...rest.slice(0, rest.length === ids.length ? ids.length - 1 : rest.length)];
}
