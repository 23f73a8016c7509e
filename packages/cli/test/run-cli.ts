import { PassThrough } from "node:stream";
import type { CommandIo } from "../src/command.ts";
import { runCli } from "../src/main.ts";

/** In-memory stdout/stderr for running commands in-process; `out()`/`err()` read what was printed. */
export function captureIo(): { io: CommandIo; out: () => string; err: () => string } {
  const stdout = new PassThrough(), stderr = new PassThrough();
  let out = "", err = "";
  stdout.on("data", (c) => (out += c));
  stderr.on("data", (c) => (err += c));
  return { io: { stdout, stderr, stdin: new PassThrough(), waitForStop: () => new Promise<string>(() => {}) }, out: () => out, err: () => err };
}

/** Runs the CLI in-process and captures what it prints. */
export async function runCapture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = captureIo();
  const code = await runCli(argv, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}
