import { afterAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT, formatRequestLine } from "@recsys/core";
import { ML100K_LIKE, writeSyntheticDataset } from "@recsys/train";
import { PassThrough } from "node:stream";
import { reportFailure, userError } from "../src/errors.ts";
import { COMMANDS } from "../src/registry.ts";
import { runCapture } from "./run-cli.ts";

// One walk through every command and every class of failure it can have: the exit-code table
// (core's EXIT) holds, every failure is one line without a stack trace, --json gets an error object.
const root = await mkdtemp(join(tmpdir(), "cli-exit-"));
const port = createServer();
await new Promise<void>((resolve) => port.listen(0, "127.0.0.1", resolve));
const busyPort = String((port.address() as AddressInfo).port);
afterAll(async () => {
  port.close();
  await rm(root, { recursive: true, force: true });
});

const data = join(root, "data"), noise = join(root, "noise"), model = join(root, "model"), foreign = join(root, "foreign");
const small = { ...ML100K_LIKE, users: 120, items: 80, ratings: 4000, seed: 6 };
await writeSyntheticDataset(data, small);
await writeSyntheticDataset(noise, { ...small, random: true });
await mkdir(foreign);
await writeFile(join(foreign, "notes.txt"), "mine");
const events = join(root, "events.log");
await writeFile(events, Array.from({ length: 200 }, (_, i) => formatRequestLine(Date.parse("2022-02-08T12:00:00Z") + i * 1000, i % 30, i % 5 ? "s" : "c", 200, ["m1"], 20)).join("\n") + "\n");
const missing = join(root, "no-such-file");
expect((await runCapture(["train", "--data", data, "--out", model, "--factors", "4", "--epochs", "10"])).code).toBe(0);

const WALK: Array<[string, string[], number]> = [
  ["usage", ["simulate", "--users", "-5", "--out", join(root, "w")], EXIT.badInput],
  ["output refused", ["simulate", "--out", foreign], EXIT.badInput],
  ["input missing", ["ingest", "--events", missing, "--out", join(root, "ds")], EXIT.badInput],
  ["output refused", ["ingest", "--events", events, "--out", foreign], EXIT.badInput],
  ["input missing", ["train", "--data", missing, "--out", join(root, "m2")], EXIT.badInput],
  ["output is the input", ["train", "--data", data, "--out", data], EXIT.badInput],
  ["gate failed", ["train", "--data", noise, "--out", join(root, "bad"), "--factors", "4", "--epochs", "3"], EXIT.gateFailed],
  ["input missing", ["evaluate", "--model", missing, "--data", data], EXIT.badInput],
  ["input missing", ["tune", "--data", missing], EXIT.badInput],
  ["input missing", ["serve", "--model", missing, "--port", "0"], EXIT.badInput],
  ["port in use", ["serve", "--model", model, "--host", "127.0.0.1", "--port", busyPort, "--log-dir", join(root, "logs")], EXIT.badInput],
  ["config missing", ["route", "--config", missing], EXIT.badInput],
  ["port in use", ["route", "--host", "127.0.0.1", "--port", busyPort], EXIT.badInput],
  ["input missing", ["canary", "analyze", "--events", missing, "--canary", "c"], EXIT.badInput],
  ["report onto a folder", ["canary", "analyze", "--events", events, "--canary", "c", "--report", foreign], EXIT.badInput],
  ["usage", ["deploy"], EXIT.badInput],
  ["no platform", ["deploy", "--model", model, "--state", join(root, "state")], EXIT.badInput],
  ["gate-failed model", ["deploy", "--model", join(root, "bad.failed"), "--state", join(root, "state")], EXIT.gateFailed],
  ["work dir refused", ["start", "--work", foreign, "--port", "0"], EXIT.badInput],
  ["input missing", ["provenance", "trace", "r-1", "--telemetry", missing], EXIT.badInput],
  ["input missing", ["fairness", "report", "--model", missing, "--data", data, "--out", join(root, "fair")], EXIT.badInput],
  ["output refused", ["fairness", "report", "--model", model, "--data", data, "--out", foreign], EXIT.badInput],
  ["unknown release", ["provenance", "verify", "nope", "--state", join(root, "state")], EXIT.badInput],
  ["usage", ["feedback", "simulate", "--out", join(root, "fb"), "--epsilon", "0.7"], EXIT.badInput],
  ["output refused", ["feedback", "simulate", "--out", foreign, "--users", "40", "--movies", "40", "--rounds", "1", "--seeds", "1"], EXIT.badInput],
];

describe("the exit-code table, command by command", () => {
  it("walks every command", () => {
    expect(new Set(WALK.map(([, argv]) => argv[0]))).toEqual(new Set(Object.keys(COMMANDS)));
  });

  it.each(WALK)("%s: %j exits %i with one error line, no stack trace, and a JSON error under --json", async (_what, argv, exit) => {
    const r = await runCapture(argv);
    expect(r.code, r.stderr).toBe(exit);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr.split("\n").filter((l) => l.startsWith(`recsys ${argv[0]}:`))).toHaveLength(1);
    const j = await runCapture([...argv, "--json"]);
    expect(j.code).toBe(exit);
    const out = JSON.parse(j.stdout) as { error: { code: string; message: string; exit: number }; metrics?: { rmse: number } };
    expect(out.error).toEqual({ code: expect.stringMatching(/^[A-Z][A-Z0-9_]+$/), message: expect.any(String), exit });
    if (exit === EXIT.gateFailed && argv[0] === "train") expect(out.metrics!.rmse).toBeGreaterThan(1);
  });

  it("lists each command's own exit codes in its --help", async () => {
    for (const name of Object.keys(COMMANDS)) {
      const { stdout } = await runCapture([name, "--help"]);
      expect(stdout).toMatch(/exit codes:\n {2}0 +success\n {2}1 +a bug/);
      expect(stdout).toContain("2    bad usage or input");
    }
    expect((await runCapture(["train", "--help"])).stdout).toContain("3    the model failed the quality gate");
    expect((await runCapture(["deploy", "--help"])).stdout).toContain("5    the release was rolled back");
  });
});

describe("file-system and port errors the user caused are exit 2, anything else is a bug (exit 1)", () => {
  it.each([
    [{ code: "EACCES", path: "/srv/data" }, "/srv/data"],
    [{ code: "EPERM", path: "/srv/data" }, "/srv/data"],
    [{ code: "EISDIR", path: "/srv/out" }, "/srv/out"],
    [{ code: "ENOENT", path: "/srv/in.log" }, "/srv/in.log"],
    [{ code: "ENOTDIR", path: "/srv/f/x" }, "/srv/f/x"],
    [{ code: "EADDRINUSE", port: 8082, address: "0.0.0.0" }, "port 8082"],
  ])("%j names %s", (fields, where) => {
    const err = userError(Object.assign(new Error("raw"), fields));
    expect(err?.exitCode).toBe(EXIT.badInput);
    expect(err?.message).toContain(where);
  });

  it("reports an unexpected error as a bug: exit 1, asks for a report, no stack unless RECSYS_DEBUG", () => {
    const stderr = new PassThrough(), stdout = new PassThrough();
    let text = "";
    stderr.on("data", (c) => (text += c));
    const before = process.env.RECSYS_DEBUG;
    delete process.env.RECSYS_DEBUG;
    try {
      expect(reportFailure("train", new TypeError("x is undefined"), { stdout, stderr }, false)).toBe(EXIT.bug);
    } finally {
      if (before !== undefined) process.env.RECSYS_DEBUG = before;
    }
    expect(text).toMatch(/^recsys train: internal error: x is undefined\. This is a bug: please report it/);
    expect(text).not.toMatch(/^\s+at /m);
  });
});
