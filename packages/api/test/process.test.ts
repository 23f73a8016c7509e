import { spawn, type ChildProcess } from "node:child_process";
import { cp, readFile, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DATASET_FILES, REQUESTS_HEADER, readCsvLines } from "@recsys/core";
import { ingestEvents } from "@recsys/ingest";
import { loadRecModel } from "@recsys/artifact";
import { recommend } from "../src/index.ts";
import { listKl, oneGenreHistory } from "./calibration-helpers.ts";
import { modelDir, tempDir } from "./helpers.ts";

const MAIN = resolve(import.meta.dirname, "../../cli/src/main.ts");

/** `recsys serve` as the deploy package starts it: a child process with flags and env. */
function serve(args: string[], env: Record<string, string> = {}): { child: ChildProcess; ready: Promise<string>; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "serve", "--port", "0", ...args], {
    env: { ...process.env, RECSYS_GIT_COMMIT: "abc123", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "", stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const ready = new Promise<string>((ok, fail) => {
    child.stdout!.on("data", (d) => {
      stdout += d;
      const m = /^serving (http:\/\/\S+)/m.exec(stdout);
      if (m) ok(m[1]!);
    });
    child.once("exit", () => fail(new Error(`exited before ready: ${stderr}`)));
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((ok) => child.once("exit", (code) => ok({ code, stderr })));
  return { child, ready, exited };
}

describe("recsys serve (child process)", () => {
  it("stops cleanly when one Ctrl-C arrives twice at once, as pnpm and tsx relay it", async () => {
    const { child, ready, exited } = serve(["--model", await modelDir({ users: 50, movies: 60 }), "--log-dir", join(await tempDir(), "logs")]);
    const url = await ready;
    expect((await fetch(`${url}/recommend/1`)).status).toBe(200);
    child.kill("SIGINT");
    child.kill("SIGINT");
    expect(await exited).toMatchObject({ code: 0 });
  });

  it("leaves every answered request in the log after SIGTERM, readable by ingestion", async () => {
    const model = await modelDir({ users: 200, movies: 300 });
    const logDir = join(await tempDir(), "logs");
    const { child, ready, exited } = serve(["--model", model, "--log-dir", logDir, "--release", "rel-7", "--explore", "0.1"]);
    const url = await ready;
    const answered: string[] = [];
    const ask = async (user: number) => {
      try {
        const r = await fetch(`${url}/recommend/${user}`);
        await r.text();
        answered.push(r.headers.get("x-request-id")!);
      } catch {
        // Refused after the stop: not answered, so not expected in the log.
      }
    };
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 20 }, (_, i) => ask(batch * 20 + i)));
    // Stop while a last wave is in flight.
    const last = Array.from({ length: 30 }, (_, i) => ask(1000 + i));
    child.kill("SIGTERM");
    await Promise.all(last);
    const { code } = await exited;
    expect(code).toBe(0);
    expect(answered.length).toBeGreaterThanOrEqual(200);

    const files = (await readdir(logDir)).map((f) => join(logDir, f));
    const logged = (await Promise.all(files.map((f) => readFile(f, "utf8")))).join("").split("\n").map((l) => l.split(",")[1]);
    expect(answered.filter((id) => !logged.includes(id))).toEqual([]);

    // Round trip: the ingestion package reads the log into the dataset's requests.csv.
    const events = join(await tempDir(), "events.log");
    await writeFile(events, "");
    const outDir = join(await tempDir(), "dataset");
    await ingestEvents({ input: events, telemetryFiles: files, outDir });
    const rows: Record<string, string>[] = [];
    await readCsvLines(join(outDir, DATASET_FILES.requests), REQUESTS_HEADER, (f) => rows.push(Object.fromEntries(REQUESTS_HEADER.map((c, i) => [c, f[i]!]))));
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(answered.filter((id) => !byId.has(id))).toEqual([]);
    const row = byId.get(answered[0]!)!;
    expect(row).toMatchObject({ status: "200", release: "rel-7", commit: "abc123" });
    expect(row.result!.split("|")).toHaveLength(20);
    expect(row.explore_slots).toMatch(/^\d+\|\d+$/);
    expect(row.model_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("exits 2 with the loader's one-line message for a corrupt artifact", async () => {
    const model = await modelDir();
    const bad = join(await tempDir(), "bad");
    await cp(model, bad, { recursive: true });
    await truncate(join(bad, "user_bias.f32"), 3);
    const { exited, ready } = serve(["--model", bad, "--log-dir", join(bad, "..", "logs")]);
    ready.catch(() => undefined);
    const { code, stderr } = await exited;
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/model artifact .*user_bias\.f32/);
  });

  it("exits 2 with one line naming --models-root when that is not a directory", async () => {
    const base = await tempDir();
    const model = await modelDir({}, "model", base);
    const { exited, ready } = serve(["--model", model, "--models-root", join(base, "no-such-dir"), "--log-dir", join(base, "logs")]);
    ready.catch(() => undefined);
    const { code, stderr } = await exited;
    await rm(base, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/models root .*no-such-dir: ENOENT.*--models-root/);
  });
});

describe("recsys serve with calibrated re-ranking", () => {
  it("serves a one-genre user a list closer to their history when RECSYS_CALIBRATION is set", async () => {
    const dir = await modelDir({ users: 60, movies: 400, seenPerUser: 30 });
    const model = await loadRecModel(dir);
    const genres = oneGenreHistory(model);
    const movies = join(await tempDir(), DATASET_FILES.movies);
    await writeFile(movies, [...genres].map(([id, gs]) => JSON.stringify({ id, genres: gs.map((name, k) => ({ id: k + 1, name })) })).join("\n"));
    const { child, ready, exited } = serve(["--model", dir, "--log-dir", join(await tempDir(), "logs")], { RECSYS_CALIBRATION: "0.5", RECSYS_MOVIES: movies });
    const url = await ready;
    const served = (await (await fetch(`${url}/recommend/${model.meta.userIds[0]}`)).text()).split(",");
    child.kill("SIGTERM");
    await exited;
    expect(served).toHaveLength(20);
    expect(listKl(model, genres, served)).toBeLessThan(listKl(model, genres, recommend(model, model.meta.userIds[0]!).ids));
  });

  it("exits 2 with one line naming the movies file when calibration is on and it is missing", async () => {
    const { exited, ready } = serve(["--model", await modelDir(), "--log-dir", join(await tempDir(), "logs")], { RECSYS_CALIBRATION: "0.5", RECSYS_MOVIES: "/nonexistent/movies.jsonl" });
    ready.catch(() => undefined);
    const { code, stderr } = await exited;
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("/nonexistent/movies.jsonl");
  });
});
