import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createRng, hashString } from "@recsys/core";
import { createWorld, writeSimulation, SIM_FILES } from "@recsys/simulator";
import { ingestEvents } from "@recsys/ingest";
import { trainAndGate } from "@recsys/train";

/**
 * For tests and demos: a small simulated site, ingested and trained, in two versions: "fair" relabels every user's
 * gender by a hash of the id (so gender carries no taste and no quality difference), "planted"
 * does the same and replaces the stars of every F user with uniform noise, a quality disparity
 * no model can learn away.
 */
export async function simulatedWorlds(root: string, seed = 5): Promise<{ fair: { data: string; model: string }; planted: { data: string; model: string } }> {
  const sim = join(root, "sim");
  await writeSimulation(createWorld({ users: 700, movies: 250, seed }), { outDir: sim, days: 30, seed });
  const users = (await readFile(join(sim, SIM_FILES.users), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { user_id: number; gender?: string });
  const female = new Set(users.filter((u) => hashString(String(u.user_id)) % 2 === 0).map((u) => u.user_id));
  const relabelled = join(root, "users.jsonl");
  await writeFile(relabelled, users.map((u) => JSON.stringify({ ...u, gender: female.has(u.user_id) ? "F" : "M" })).join("\n") + "\n");
  const rng = createRng(seed);
  const events = await readFile(join(sim, SIM_FILES.events), "utf8");
  const noisy = join(root, "noisy-events.log");
  await writeFile(noisy, events.replace(/^([^,\n]*),(\d+),GET \/rate\/([^=\n]+)=([1-5])$/gm, (line, time, user, movie) =>
    female.has(Number(user)) ? `${time},${user},GET /rate/${movie}=${1 + rng.int(5)}` : line));
  const build = async (name: string, input: string) => {
    const data = join(root, `${name}-data`), model = join(root, `${name}-model`);
    await ingestEvents({ input, usersFile: relabelled, moviesFile: join(sim, SIM_FILES.movies), outDir: data });
    // Every training setting pinned, so that a change of train's defaults leaves the two worlds' models as they were.
    await trainAndGate({ dataDir: data, outDir: model, factors: 8, epochs: 10, lr: 0.015, reg: 0.1, gateRmse: 5 });
    return { data, model };
  };
  return { fair: await build("fair", join(sim, SIM_FILES.events)), planted: await build("planted", noisy) };
}
