#!/usr/bin/env node
import { EXIT, RecsysError } from "@recsys/core";
import { parseCommandArgs, type CommandIo } from "./command.ts";
import { COMMANDS } from "./registry.ts";

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ["usage: recsys <command> [flags]   (recsys <command> --help for its flags)", "", "commands:", ...lines, ""].join("\n");
}

/** Runs one CLI invocation and returns its exit code; all output goes through `io`. */
export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(topHelp());
    return name ? EXIT.ok : EXIT.badInput;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`recsys: unknown command '${name}' (try 'recsys --help')\n`);
    return EXIT.badInput;
  }
  try {
    const command = await entry.load();
    const { options, json, help } = parseCommandArgs(command, rest);
    if (help) {
      io.stdout.write(`usage: recsys ${command.name} ${command.help.trim()}\n`);
      return EXIT.ok;
    }
    const result = await command.run(options, io);
    io.stdout.write(json ? JSON.stringify(result.summary) + "\n" : result.text.endsWith("\n") || result.text === "" ? result.text : result.text + "\n");
    return result.exitCode ?? EXIT.ok;
  } catch (err) {
    if (err instanceof RecsysError) {
      io.stderr.write(`recsys ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    io.stderr.write(`recsys ${name}: internal error: ${e?.message ?? String(err)}${process.env.RECSYS_DEBUG ? `\n${e?.stack}` : " (set RECSYS_DEBUG=1 for a stack trace)"}\n`);
    return EXIT.failure;
  }
}

let stopRequested: Promise<string> | undefined;
/**
 * The first SIGINT/SIGTERM asks the command to stop cleanly. Wrappers (pnpm, tsx, a terminal's
 * process group) often deliver the same Ctrl-C two or three times within milliseconds: repeats
 * in the first second are ignored; a later one is a user insisting, and ends the process (130).
 */
function waitForStop(): Promise<string> {
  stopRequested ??= new Promise((resolve) => {
    let firstAt = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (firstAt === 0) {
        firstAt = Date.now();
        resolve(sig);
      } else if (Date.now() - firstAt > 1000) {
        process.stderr.write(`recsys: ${sig} again, stopping now without cleaning up\n`);
        process.exit(130);
      }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  return stopRequested;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/cli/src/main.ts")) {
  const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, waitForStop });
  process.exitCode = code;
  // Long-running commands have closed their servers by now; make sure nothing keeps us alive.
  setTimeout(() => process.exit(code), 50).unref();
}
