import { open } from "node:fs/promises";
import { join } from "node:path";
import { readCsvLines } from "@recsys/core";
import type { RatingSet } from "@recsys/train";

/**
 * A MovieLens ratings.csv (ml-latest-small and kin: `userId,movieId,rating,timestamp`, or a copy
 * whose movie column is spelled `Id`) read straight into a RatingSet, rows in first-seen order.
 * For benches only: MovieLens data is never committed, so the bench takes its path. Any rating
 * scale (half stars included) is kept as is.
 */
export async function readMovieLensRatings(dir: string): Promise<{ ratings: RatingSet; nUsers: number; nItems: number }> {
  const path = join(dir, "ratings.csv");
  const fh = await open(path, "r");
  const head = (await fh.read(Buffer.alloc(256), 0, 256, 0)).buffer.toString("utf8").split(/\r?\n/)[0]!;
  await fh.close();
  const users = new Map<string, number>(), items = new Map<string, number>();
  const u: number[] = [], i: number[] = [], v: number[] = [], t: number[] = [];
  const row = (map: Map<string, number>, key: string) => { let r = map.get(key); if (r === undefined) map.set(key, r = map.size); return r; };
  await readCsvLines(path, head.split(","), (f) => { u.push(row(users, f[0]!)); i.push(row(items, f[1]!)); v.push(Number(f[2])); t.push(Number(f[3]) * 1000); });
  const ratings: RatingSet = { length: u.length, users: Uint32Array.from(u), items: Uint32Array.from(i), values: Float32Array.from(v), times: Float64Array.from(t) };
  return { ratings, nUsers: users.size, nItems: items.size };
}
