import { describe, expect, it } from "vitest";
import { createRng, RecsysError } from "@recsys/core";
import {
  createWorld, expectedListValue, idealRecommendations, respondToRecommendations, sampleActiveUser, trueRating,
} from "./index.ts";

const world = createWorld({ users: 200, movies: 300, seed: 5 });
const WATCH = /^[\d\-T:.]+,(\d+),GET \/data\/m\/([^/]+)\/(\d+)\.mpg$/;
const RATE = /^[\d\-T:.]+,(\d+),GET \/rate\/([^=]+)=([1-5])$/;

/** For one user: their 10 truly best movies and 10 truly worst, interleaved worst first. */
function mixedList(userId: number): { list: string[]; liked: Set<string> } {
  const ranked = idealRecommendations(world, userId, world.movies.length);
  const best = ranked.slice(0, 10), worst = ranked.slice(-10);
  return { list: worst.flatMap((w, k) => [w, best[k]!]), liked: new Set(best) };
}

describe("choice model", () => {
  it("picks movies the user truly likes more often than ones they dislike", () => {
    const rng = createRng(1);
    let liked = 0, disliked = 0;
    for (const user of world.users) {
      const { list, liked: good } = mixedList(user.user_id);
      const r = respondToRecommendations(world, user.user_id, list, Date.UTC(2022, 1, 1), rng);
      if (r.movieId) (good.has(r.movieId) ? liked++ : disliked++);
    }
    expect(liked).toBeGreaterThan(2 * disliked);
  });

  it("favours the top of the list (position bias)", () => {
    const rng = createRng(2);
    const list = world.movieIds.slice(0, 20);
    const picks = new Array<number>(20).fill(0);
    for (let n = 0; n < 3000; n++) {
      const r = respondToRecommendations(world, sampleActiveUser(world, rng), list, 0, rng);
      if (r.position >= 0) picks[r.position]!++;
    }
    expect(picks.slice(0, 5).reduce((a, b) => a + b, 0)).toBeGreaterThan(picks.slice(15).reduce((a, b) => a + b, 0) * 1.5);
  });

  it("returns well-formed, time-ordered lines and is deterministic for a given rng", () => {
    const { list } = mixedList(3);
    const a = respondToRecommendations(world, 3, list, Date.UTC(2022, 5, 1), createRng(9));
    const b = respondToRecommendations(world, 3, list, Date.UTC(2022, 5, 1), createRng(9));
    expect(a).toEqual(b);
    const runs = Array.from({ length: 40 }, (_, k) => respondToRecommendations(world, 3, list, 0, createRng(k)));
    const watched = runs.find((r) => r.movieId !== null && r.rating !== null)!;
    expect(watched).toBeDefined();
    expect(watched.lines.length).toBe(watched.minutes + 1);
    watched.lines.slice(0, -1).forEach((line, k) => expect(WATCH.exec(line)?.slice(1)).toEqual(["3", watched.movieId, String(k + 1)]));
    expect(RATE.exec(watched.lines.at(-1)!)?.slice(1)).toEqual(["3", watched.movieId, String(watched.rating)]);
    expect([...watched.lines].sort()).toEqual(watched.lines);
    expect(runs.some((r) => r.movieId === null && r.lines.length === 0)).toBe(true);
  });

  it("never picks ids the world does not know", () => {
    const rng = createRng(4);
    for (let n = 0; n < 200; n++) {
      const r = respondToRecommendations(world, 1, ["no+such+movie+1999", world.movieIds[0]!], 0, rng);
      expect(r.movieId === null || r.movieId === world.movieIds[0]).toBe(true);
    }
  });

  it("values an oracle list above a random one and exposes true ratings in 1..5", () => {
    const user = world.users[10]!.user_id;
    const ideal = expectedListValue(world, user, idealRecommendations(world, user, 20));
    const random = expectedListValue(world, user, world.movieIds.slice(100, 120));
    expect(ideal.expectedRating).toBeGreaterThan(random.expectedRating);
    expect(ideal.pickProbability).toBeGreaterThan(random.pickProbability);
    for (const id of world.movieIds.slice(0, 50)) {
      const r = trueRating(world, user, id);
      expect(r).toBeGreaterThanOrEqual(1);
      expect(r).toBeLessThanOrEqual(5);
    }
  });

  it("samples active users by activity and rejects unknown users with a code", () => {
    const rng = createRng(6);
    const counts = new Map<number, number>();
    for (let n = 0; n < 20000; n++) {
      const u = sampleActiveUser(world, rng);
      counts.set(u, (counts.get(u) ?? 0) + 1);
    }
    const sorted = [...counts.values()].sort((a, b) => b - a);
    expect(sorted[0]! / sorted[Math.floor(sorted.length / 2)]!).toBeGreaterThan(3);
    const err = (() => { try { trueRating(world, 99_999, world.movieIds[0]!); } catch (e) { return e; } })();
    expect((err as RecsysError).code).toBe("RECSYS_SIM_UNKNOWN_ID");
  });
});
