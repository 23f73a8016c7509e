import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { abandonPendingWrites, OUTPUT_MARKER, writeDirAtomic, writeFileAtomic, type RecsysError } from "../src/index.ts";

const root = await mkdtemp(join(tmpdir(), "core-atomic-"));
afterAll(() => rm(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** A pid that belonged to a process that has exited (so no live writer can own it). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

describe("writeFileAtomic", () => {
  it("leaves the old file whole when the writer is killed between write and rename, and a later write removes the leftover", async () => {
    const dir = join(root, "killed"), target = join(dir, "big.bin");
    await mkdir(dir);
    const old = Buffer.alloc(4 << 20, 0x6f);
    await writeFile(target, old);
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "stalled-writer.ts"), target, String(8 << 20)], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit");
    for await (const line of createInterface({ input: child.stdout! })) if (line === "half") break;
    child.kill("SIGKILL");
    await exited;
    expect((await readFile(target)).equals(old)).toBe(true);
    expect((await readdir(dir)).filter((n) => n !== "big.bin")).toHaveLength(1);
    await writeFileAtomic(target, "new");
    expect(await readdir(dir)).toEqual(["big.bin"]);
  });

  it("fsyncs the temp file, whole, before it replaces the target", async () => {
    const dir = join(root, "sync"), target = join(dir, "f.txt");
    await mkdir(dir);
    await writeFile(target, "old");
    const probe = await open(target, "r");
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const seen: Array<{ target: string; temp: string }> = [];
    const sync = proto.sync;
    vi.spyOn(proto, "sync").mockImplementation(async function (this: unknown) {
      const temp = (await readdir(dir)).find((n) => n !== "f.txt")!;
      seen.push({ target: await readFile(target, "utf8"), temp: await readFile(join(dir, temp), "utf8") });
      return sync.call(this);
    });
    await writeFileAtomic(target, "new content");
    expect(seen).toEqual([{ target: "old", temp: "new content" }]);
    expect(await readFile(target, "utf8")).toBe("new content");
  });

  it("keeps temporaries of live writers and removes (or restores) those of dead ones", async () => {
    const dir = join(root, "stale"), target = join(dir, "data");
    await mkdir(dir);
    const dead = await deadPid();
    const live = `.data.tmp-${process.ppid}-0123abcd`;
    await mkdir(join(dir, `.data.tmp-${dead}-deadbeef`));
    // Killed between moving the old dataset aside and renaming the new one in: the old one comes back.
    const aside = join(dir, `.data.old-${dead}-feedf00d`);
    await mkdir(aside);
    await writeFile(join(aside, OUTPUT_MARKER), JSON.stringify({ kind: "dataset" }));
    await writeFile(join(aside, "x"), "old");
    await mkdir(join(dir, live));
    await mkdir(join(dir, ".data.tmp-notapid-00000000"));
    await expect(writeDirAtomic(target, async () => { throw new Error("disk full"); }, { kind: "dataset" })).rejects.toThrow("disk full");
    expect((await readdir(dir)).sort()).toEqual([".data.tmp-notapid-00000000", live, "data"].sort());
    expect(await readFile(join(target, "x"), "utf8")).toBe("old");
  });
});

describe("writes that cannot succeed fail fast", () => {
  it.each([["/proc/recsys-nope/ds"], ["/sys/recsys-nope/ds"]])("refuses %s with a coded input error naming it", async (path) => {
    const err = (await writeDirAtomic(path, async () => {}, { kind: "dataset" }).catch((e: unknown) => e)) as RecsysError;
    expect(err.code).toBe("RECSYS_OUTPUT_UNWRITABLE");
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain("/recsys-nope");
  }, 20_000);
});

describe("an interruption (abandonPendingWrites)", () => {
  it("removes a directory being built even while the thread pool is still writing into it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "abandon-"));
    try {
      const target = join(dir, "ds");
      let cleanUp: unknown = "not run";
      await writeDirAtomic(target, async (tmp) => {
        // Writes queued on libuv's pool, as a command's last awaits are when the signal lands:
        // they keep creating files while the synchronous clean-up walks the directory.
        const inFlight = Array.from({ length: 400 }, (_, i) => writeFile(join(tmp, `part-${i}`), "x".repeat(1000)).catch(() => undefined));
        try {
          cleanUp = abandonPendingWrites();
        } catch (err) {
          cleanUp = err;
        }
        await Promise.all(inFlight);
      }, { kind: "dataset" }).catch(() => undefined);
      expect(cleanUp).toContainEqual({ target, kind: "dataset", state: "absent" });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
