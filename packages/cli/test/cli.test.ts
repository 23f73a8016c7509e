import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/registry.ts";
import { runCapture } from "./run-cli.ts";

describe("recsys CLI shell", () => {
  it("lists every command under --help", async () => {
    const { code, stdout } = await runCapture(["--help"]);
    expect(code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(stdout).toContain(name);
  });

  it("exits 2 with usage when no command is given", async () => {
    expect((await runCapture([])).code).toBe(2);
  });

  it("exits 2 on an unknown command with a one-line error", async () => {
    const { code, stderr } = await runCapture(["frobnicate"]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("frobnicate");
  });

  it.each(Object.keys(COMMANDS))("%s answers --help with its usage", async (name) => {
    const { code, stdout } = await runCapture([name, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^usage: recsys ${name}`));
  });

  it.each(Object.keys(COMMANDS))("%s rejects an unknown flag with exit 2 and no stack trace", async (name) => {
    const { code, stderr } = await runCapture([name, "--no-such-flag"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--no-such-flag");
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe("usage messages", () => {
  it.each(Object.keys(COMMANDS))("%s names every flag it takes in its --help usage lines", async (name) => {
    const command = await COMMANDS[name]!.load();
    // The synopsis: the lines before the first blank one, where a user looks for what to type.
    const usage = (await runCapture([name, "--help"])).stdout.split("\n\n")[0]!;
    for (const flag of Object.keys(command.flags)) expect(usage).toMatch(new RegExp(`--${flag}\\b`));
  });

  it("says the command's name once, and names a wrong flag value by its flag", async () => {
    const { code, stderr } = await runCapture(["train", "--data", "d", "--out", "m", "--factors", "abc"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^recsys train: --factors: must be a whole number \(see 'recsys train --help'\)\n$/);
    expect((await runCapture(["train"])).stderr).toMatch(/^recsys train: --data DIR is required; --out MODEL_DIR is required /);
  });

  it("names an unknown flag in one line with balanced quotes", async () => {
    for (const flag of ["--no-such-flag", "-x"]) {
      const { code, stderr } = await runCapture(["start", flag]);
      expect(code).toBe(2);
      expect(stderr).toBe(`recsys start: unknown flag '${flag}' (see 'recsys start --help')\n`);
    }
  });
});
