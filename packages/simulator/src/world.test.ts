import { describe, expect, it } from "vitest";
import { MovieIdSchema, MovieSchema, UserSchema, RecsysError } from "@recsys/core";
import { createWorld, movieSlug } from "./index.ts";

describe("createWorld", () => {
  const world = createWorld({ users: 3000, movies: 600, seed: 7 });

  it("is the same world for the same seed and a different one for another seed", () => {
    const again = createWorld({ users: 3000, movies: 600, seed: 7 });
    const other = createWorld({ users: 3000, movies: 600, seed: 8 });
    expect(again.movies).toEqual(world.movies);
    expect(again.users).toEqual(world.users);
    expect(again.truth.userFactors).toEqual(world.truth.userFactors);
    expect(other.movieIds).not.toEqual(world.movieIds);
  });

  it("gives users and movies the side-file shapes and unique slug ids", () => {
    for (const u of world.users) expect(UserSchema.strict().parse(u)).toEqual(u);
    for (const m of world.movies) expect(MovieSchema.strict().parse(m)).toEqual(m);
    expect(new Set(world.movieIds).size).toBe(world.movies.length);
    for (const id of world.movieIds) {
      expect(MovieIdSchema.safeParse(id).success).toBe(true);
      expect(id).toMatch(/^[a-z0-9]+(\+[a-z0-9]+)*\+\d{4}$/);
    }
  });

  it("makes slugs as the real stream does", () => {
    expect(movieSlug("The Godfather", 1972)).toBe("the+godfather+1972");
    expect(movieSlug("Rock 'n' Roll: Part II", 2001)).toBe("rock+n+roll+part+ii+2001");
  });

  it("draws non-uniform, MovieLens-like demographics", () => {
    const male = world.users.filter((u) => u.gender === "M").length / world.users.length;
    expect(male).toBeGreaterThan(0.62);
    expect(male).toBeLessThan(0.8);
    const occ = new Map<string, number>();
    for (const u of world.users) occ.set(u.occupation!, (occ.get(u.occupation!) ?? 0) + 1);
    const counts = [...occ.values()].sort((a, b) => a - b);
    expect(counts.at(-1)! / counts[0]!).toBeGreaterThan(10);
    const ages = world.users.map((u) => u.age!).sort((a, b) => a - b);
    const median = ages[ages.length >> 1]!;
    const mean = ages.reduce((a, b) => a + b, 0) / ages.length;
    expect(median).toBeGreaterThanOrEqual(25);
    expect(median).toBeLessThanOrEqual(38);
    expect(mean).toBeGreaterThan(median); // right skew, as in ml-100k
  });

  it("gives groups different tastes (genre structure in the truth)", () => {
    const actionIdx = world.movies.flatMap((m, i) => (m.genres.some((g) => g.name === "Action") ? [i] : []));
    const romanceIdx = world.movies.flatMap((m, i) => (m.genres.some((g) => g.name === "Romance") ? [i] : []));
    const k = world.truth.factors;
    const liking = (gender: string, movies: number[]): number => {
      let s = 0, n = 0;
      world.users.forEach((u, ui) => {
        if (u.gender !== gender) return;
        for (const i of movies) {
          for (let f = 0; f < k; f++) s += world.truth.userFactors[ui * k + f]! * world.truth.movieFactors[i * k + f]!;
          n++;
        }
      });
      return s / n;
    };
    expect(liking("M", actionIdx) - liking("F", actionIdx)).toBeGreaterThan(liking("M", romanceIdx) - liking("F", romanceIdx));
  });

  it("rejects bad options with a coded error", () => {
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return err instanceof RecsysError ? err.code : "not a RecsysError";
      }
      return undefined;
    };
    expect(codeOf(() => createWorld({ users: 0, movies: 100, seed: 1 }))).toBe("RECSYS_SIM_BAD_OPTIONS");
    expect(codeOf(() => createWorld({ users: 10, movies: 5, seed: 1 }))).toBe("RECSYS_SIM_BAD_OPTIONS");
  });
});
