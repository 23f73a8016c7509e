import type { RecModel } from "@recsys/artifact";
import { calibrationKl, genreDistribution } from "../src/index.ts";

const GENRES = ["Comedy", "Horror", "Action", "Drama"];

/** Row 0's seen movies are all Drama; every other movie cycles through the four genres. */
export function oneGenreHistory(model: RecModel): Map<string, string[]> {
  const seen0 = new Set(model.seenItems.subarray(model.seenOffsets[0]!, model.seenOffsets[1]!));
  return new Map(model.meta.movieIds.map((id, i) => [id, [seen0.has(i) ? "Drama" : GENRES[i % 4]!]]));
}

/** KL between the genres of row 0's history and of a served list of movie ids. */
export function listKl(model: RecModel, genres: Map<string, string[]>, ids: string[]): number {
  const rows = model.meta.movieIds.map((id) => genres.get(id) ?? []);
  const rowOf = new Map(model.meta.movieIds.map((id, i) => [id, i]));
  const history = genreDistribution(model.seenItems.subarray(model.seenOffsets[0]!, model.seenOffsets[1]!), rows);
  return calibrationKl(history, genreDistribution(ids.map((id) => rowOf.get(id)!), rows));
}
