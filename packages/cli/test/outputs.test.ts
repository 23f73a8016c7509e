import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatRateLine, formatRequestLine, formatWatchLine } from "@recsys/core";
import { ML100K_LIKE, writeSyntheticDataset } from "@recsys/train";
import { runCapture } from "./run-cli.ts";

// Every writer refuses to replace what it did not write: files, foreign folders, devices, its own input.
const root = await mkdtemp(join(tmpdir(), "cli-outputs-"));
afterAll(() => rm(root, { recursive: true, force: true }));

const T0 = Date.parse("2022-02-08T12:00:00Z");
const events = join(root, "events.log");
await writeFile(events, Array.from({ length: 60 }, (_, i) => i % 3 === 0
  ? formatRequestLine(T0 + i * 1000, i % 7, i % 2 ? "c" : "s", 200, ["m1", "m2"], 30)
  : i % 3 === 1 ? formatWatchLine(T0 + i * 1000, i % 7, `m${i % 5}`, 0) : formatRateLine(T0 + i * 1000, i % 7, `m${i % 5}`, 1 + (i % 5))).join("\n") + "\n");

/** A character device of our own (as root), so a test that fails cannot damage the real /dev/null. */
function deviceNode(): string | null {
  if (process.getuid?.() !== 0) return null;
  const node = join(root, `null-${Math.random().toString(36).slice(2)}`);
  try {
    execFileSync("mknod", [node, "c", "1", "3"]);
    return node;
  } catch {
    return null;
  }
}

async function refused(argv: string[], path: string): Promise<string> {
  const r = await runCapture(argv);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain(path);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return r.stderr;
}

describe("outputs are owned", () => {
  it("refuses to replace a text file given as ingest --out, and replaces it with --force", async () => {
    const file = join(root, "notes.txt");
    await writeFile(file, "my notes");
    expect(await refused(["ingest", "--events", events, "--out", file], file)).toContain("--force");
    expect(await readFile(file, "utf8")).toBe("my notes");
    expect((await runCapture(["ingest", "--events", events, "--out", file, "--force"])).code).toBe(0);
    expect((await lstat(file)).isDirectory()).toBe(true);
  });

  it("refuses a folder of the user's own files (ingest and train), keeps every file, and re-runs over its own output", async () => {
    const mine = join(root, "mine");
    await mkdir(join(mine, "sub"), { recursive: true });
    await writeFile(join(mine, "notes.txt"), "keep me");
    await refused(["ingest", "--events", events, "--out", mine], mine);
    const dataset = join(root, "ds");
    expect((await runCapture(["ingest", "--events", events, "--out", dataset])).code).toBe(0);
    await refused(["train", "--data", dataset, "--out", mine], mine);
    expect((await readdir(mine)).sort()).toEqual(["notes.txt", "sub"]);
    expect(await readFile(join(mine, "notes.txt"), "utf8")).toBe("keep me");
    // Its own earlier output of the same kind is replaced without --force; another kind is not.
    expect((await runCapture(["ingest", "--events", events, "--out", dataset])).code).toBe(0);
    await refused(["simulate", "--out", dataset, "--users", "5", "--movies", "25", "--days", "1"], dataset);
  });

  it("never writes a model over its own data, nor over a folder holding it, even with --force", async () => {
    const parent = join(root, "parent"), dataset = join(parent, "ds");
    // Large enough to train on: the old code trained, then replaced the data with the model.
    await writeSyntheticDataset(dataset, { ...ML100K_LIKE, users: 60, items: 40, ratings: 1500, seed: 3 });
    const before = await readFile(join(dataset, "manifest.json"), "utf8");
    await refused(["train", "--data", dataset, "--out", dataset, "--epochs", "2"], dataset);
    await refused(["train", "--data", dataset, "--out", dataset, "--force"], dataset);
    await refused(["train", "--data", dataset, "--out", parent, "--force"], parent);
    expect(await readFile(join(dataset, "manifest.json"), "utf8")).toBe(before);
  });

  it("refuses /dev/null and other devices as an output, with or without --force", async () => {
    await refused(["ingest", "--events", events, "--out", "/dev/null", "--force"], "/dev/null");
    expect((await lstat("/dev/null")).isCharacterDevice()).toBe(true);
    const node = deviceNode();
    if (node === null) return;
    await refused(["ingest", "--events", events, "--out", node], node);
    await refused(["ingest", "--events", events, "--out", node, "--force"], node);
    await refused(["canary", "analyze", "--events", events, "--canary", "c", "--report", node, "--force"], node);
    expect((await lstat(node)).isCharacterDevice()).toBe(true);
  });

  it("refuses a canary --report onto a folder or a foreign file, and replaces its own report", async () => {
    const folder = join(root, "repdir");
    await mkdir(folder);
    await refused(["canary", "analyze", "--events", events, "--canary", "c", "--report", folder], folder);
    const foreign = join(root, "index.html");
    await writeFile(foreign, "<p>my page</p>");
    await refused(["canary", "analyze", "--events", events, "--canary", "c", "--report", foreign], foreign);
    expect(await readFile(foreign, "utf8")).toBe("<p>my page</p>");
    await refused(["canary", "analyze", "--events", events, "--canary", "c", "--report", events], events);
    const report = join(root, "report.html");
    for (let run = 0; run < 2; run++) expect((await runCapture(["canary", "analyze", "--events", events, "--canary", "c", "--report", report])).code).toBe(0);
  });
});
