import { afterAll, afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { watch } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setImmediate } from "node:timers/promises";
import { formatRateLine, formatRequestLine } from "@recsys/core";
import { ML100K_LIKE, writeSyntheticDataset } from "@recsys/train";
import { runCapture } from "./run-cli.ts";

// The real CLI in a child process: signals, temporaries on disk, exit codes.
const root = await mkdtemp(join(tmpdir(), "cli-interrupt-"));
const children = new Set<ChildProcess>();
afterEach(() => { for (const c of children) c.kill("SIGKILL"); children.clear(); });
afterAll(() => rm(root, { recursive: true, force: true }));

const MAIN = join(import.meta.dirname, "..", "src", "main.ts");
const T0 = Date.parse("2022-02-08T12:00:00Z");
const events = join(root, "events.log");
await writeFile(events, Array.from({ length: 40 }, (_, i) => formatRateLine(T0 + i * 1000, i % 9, `m${i % 6}`, 1 + (i % 5))).join("\n") + "\n");

function cli(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  child.stdout!.resume();
  const exit = once(child, "exit").then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exit };
}

/** Resolves once an entry whose name matches `pattern` is in `dir` (a file-system event, not a timer). */
async function entryAppears(dir: string, pattern: RegExp): Promise<void> {
  const watcher = watch(dir);
  try {
    const seen = once(watcher, "change");
    while (!(await readdir(dir)).some((n) => pattern.test(n))) await Promise.race([seen, once(watcher, "change")]);
  } finally {
    watcher.close();
  }
}

async function lineAppears(child: ChildProcess, prefix: string): Promise<void> {
  for await (const line of createInterface({ input: child.stderr! })) if (line.startsWith(prefix)) return;
}

/** Resolves once process `pid` has `path` open (Linux /proc): the child is reading its input. */
async function fileOpened(pid: number, path: string): Promise<void> {
  for (;;) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")));
    if (targets.includes(path)) return;
    await setImmediate();
  }
}

const requestLines = (n: number) => Array.from({ length: n }, (_, i) => formatRequestLine(T0 + i * 10, i % 500, i % 5 ? "s" : "c", 200, ["m1", "m2", "m3"], 20 + (i % 40))).join("\n") + "\n";
const canaryEvents = join(root, "canary-events.log");
await writeFile(canaryEvents, requestLines(300));

const interruptedLine = (stderr: string) => stderr.trim().split("\n").filter((l) => l.includes("interrupted"));

describe("interruption leaves nothing behind", () => {
  it("SIGINT during ingest: temporaries removed, the old dataset intact, one line, exit 130", async () => {
    const dir = join(root, "ingest"), ds = join(dir, "ds");
    await mkdir(dir);
    expect((await runCapture(["ingest", "--events", events, "--out", ds])).code).toBe(0);
    const manifest = await readFile(join(ds, "manifest.json"), "utf8");
    // stdin stays open: the child waits mid-ingest with its temporary dataset on disk.
    const { child, exit } = cli(["ingest", "--events", "-", "--out", ds]);
    child.stdin!.write(formatRateLine(T0, 1, "m1", 4) + "\n");
    await entryAppears(dir, /^\.ds\.tmp-/);
    child.kill("SIGINT");
    const { code, stderr } = await exit;
    expect(code).toBe(130);
    expect(interruptedLine(stderr)).toEqual([`recsys: interrupted: nothing written, the old dataset at ${ds} is intact`]);
    expect(await readdir(dir)).toEqual(["ds"]);
    expect(await readFile(join(ds, "manifest.json"), "utf8")).toBe(manifest);
  });

  it("SIGTERM during simulate: no temporaries, no half world, exit 130", async () => {
    const dir = join(root, "simulate"), out = join(dir, "world");
    await mkdir(dir);
    const { child, exit } = cli(["simulate", "--out", out, "--users", "20000", "--days", "60"]);
    await entryAppears(dir, /^\.world\.tmp-/);
    child.kill("SIGTERM");
    const { code, stderr } = await exit;
    expect(code).toBe(130);
    expect(interruptedLine(stderr)).toEqual([`recsys: interrupted: nothing written, ${out} was not created`]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("SIGINT during training: the old model intact, exit 130", async () => {
    const dir = join(root, "train"), data = join(dir, "data"), model = join(dir, "model");
    await writeSyntheticDataset(data, { ...ML100K_LIKE, users: 300, items: 200, ratings: 20_000, seed: 5 });
    expect((await runCapture(["train", "--data", data, "--out", model, "--factors", "4", "--epochs", "10"])).code).toBe(0);
    const meta = await readFile(join(model, "model.json"), "utf8");
    const { child, exit } = cli(["train", "--data", data, "--out", model, "--epochs", "10000"]);
    await lineAppears(child, "train:");
    child.kill("SIGINT");
    const { code, stderr } = await exit;
    expect(code).toBe(130);
    expect(interruptedLine(stderr)).toEqual([`recsys: interrupted: nothing written, the old model at ${model} is intact`]);
    expect((await readdir(dir)).sort()).toEqual(["data", "model"]);
    expect(await readFile(join(model, "model.json"), "utf8")).toBe(meta);
  });

  it("SIGINT during canary analyze --report: no report, no temporaries, exit 130", async () => {
    const dir = join(root, "canary"), big = join(dir, "events.log");
    await mkdir(dir);
    await writeFile(big, requestLines(300_000));
    const { child, exit } = cli(["canary", "analyze", "--events", big, "--canary", "c", "--report", join(dir, "report.html")]);
    await fileOpened(child.pid!, big);
    child.kill("SIGINT");
    const { code, stderr } = await exit;
    expect(code).toBe(130);
    expect(interruptedLine(stderr)).toEqual(["recsys: interrupted: nothing written"]);
    expect(await readdir(dir)).toEqual(["events.log"]);
  });
});

describe("writes that cannot succeed fail fast", () => {
  it.each([
    [["ingest", "--events", events, "--out", "/proc/recsys-nope/ds"]],
    [["simulate", "--out", "/proc/recsys-nope/world", "--users", "10", "--movies", "25", "--days", "1"]],
    [["canary", "analyze", "--events", canaryEvents, "--canary", "c", "--report", "/proc/recsys-nope/r.html"]],
  ])("%j exits 2 naming the path", async (argv) => {
    const { code, stderr } = await cli(argv).exit;
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("/proc/recsys-nope");
  });
});
