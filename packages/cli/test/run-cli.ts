import { PassThrough } from "node:stream";
import { runCli } from "../src/main.ts";

/** Runs the CLI in-process and captures what it prints. */
export async function runCapture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough(), stderr = new PassThrough();
  let out = "", err = "";
  stdout.on("data", (d) => (out += d));
  stderr.on("data", (d) => (err += d));
  const code = await runCli(argv, { stdout, stderr, stdin: new PassThrough(), waitForStop: () => new Promise(() => {}) });
  return { code, stdout: out, stderr: err };
}
