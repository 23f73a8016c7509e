#!/usr/bin/env node
import { abandonPendingWrites, describeInterruption, EXIT, EXIT_MEANING, type ExitName } from "@recsys/core";
import { parseCommandArgs, type Command, type CommandIo } from "./command.ts";
import { reportFailure } from "./errors.ts";
import { COMMANDS } from "./registry.ts";

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ["usage: recsys <command> [flags]   (recsys <command> --help for its flags)", "", "commands:", ...lines, "", exitTable(Object.keys(EXIT) as ExitName[]), ""].join("\n");
}

function exitTable(names: ReadonlyArray<ExitName>): string {
  return ["exit codes:", ...names.map((n) => `  ${String(EXIT[n]).padEnd(3)}  ${EXIT_MEANING[n]}`)].join("\n");
}

function commandHelp(command: Command): string {
  const names = (Object.keys(EXIT) as ExitName[]).filter((n) => ["ok", "bug", "badInput", "interrupted", ...command.exits].includes(n));
  return `usage: recsys ${command.name} ${command.help.trim()}\n\n${exitTable(names)}\n`;
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
  // Known before the flags parse, so a usage error is JSON too.
  const json = rest.includes("--json");
  try {
    const command = await entry.load();
    const { options, help } = parseCommandArgs(command, rest);
    if (help) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    const result = await command.run(options, io);
    io.stdout.write(json ? JSON.stringify(result.summary) + "\n" : result.text.endsWith("\n") || result.text === "" ? result.text : result.text + "\n");
    return result.exitCode ?? EXIT.ok;
  } catch (err) {
    return reportFailure(name, err, io, json);
  }
}

let stopRequested: Promise<string> | undefined;
let resolveStop: ((sig: string) => void) | undefined;

/** Long-running commands (serve, route, start, deploy) take the first signal as "stop cleanly". */
function waitForStop(): Promise<string> {
  stopRequested ??= new Promise((resolve) => (resolveStop = resolve));
  return stopRequested;
}

/**
 * The first SIGINT/SIGTERM asks a long-running command to stop cleanly; any other command is
 * interrupted at once: the temporaries of its writes are removed, one line says what is left, and
 * the process exits 130. Wrappers (pnpm, tsx, a terminal's process group) often deliver the same
 * Ctrl-C two or three times within milliseconds: repeats in the first second are ignored; a
 * later one is a user insisting, and ends the process (130) after the same clean-up.
 */
function installSignalHandlers(): void {
  let firstAt = 0;
  const interrupt = (): never => {
    let outcome: string;
    try {
      outcome = describeInterruption(abandonPendingWrites());
    } catch (err) {
      // Still an interruption (130), never a stack trace: say which temporary is left.
      outcome = `interrupted, but a temporary could not be removed: ${(err as Error).message}`;
    }
    process.stderr.write(`recsys: ${outcome}\n`);
    process.exit(EXIT.interrupted);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (!resolveStop) interrupt();
    if (firstAt === 0) {
      firstAt = Date.now();
      resolveStop!(sig);
    } else if (Date.now() - firstAt > 1000) {
      process.stderr.write(`recsys: ${sig} again, stopping now\n`);
      interrupt();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/cli/src/main.ts")) {
  installSignalHandlers();
  const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, waitForStop });
  process.exitCode = code;
  // Long-running commands have closed their servers by now; make sure nothing keeps us alive.
  setTimeout(() => process.exit(code), 50).unref();
}
