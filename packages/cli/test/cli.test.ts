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
