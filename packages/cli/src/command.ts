import { parseArgs, type ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { InputError, parseOrThrow, type ExitName } from "@recsys/core";

/** What a command may touch besides its flags: passed in so tests run commands in-process. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /**
   * Resolves when the user asks the command to stop (SIGINT/SIGTERM). Only long-running
   * commands call it; the others keep the default Ctrl-C behaviour.
   */
  waitForStop(): Promise<string>;
}

/** A finished command's figures (printed as one JSON object with --json) and its human text. */
export interface CommandResult {
  summary: Record<string, unknown>;
  text: string;
  exitCode?: number;
}

export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

export interface Command<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  /** Usage lines and flag descriptions shown by --help. */
  help: string;
  flags: FlagSpec;
  /** Exit codes this command has besides ok, bug, bad input and interrupted; --help lists them all. */
  exits: ReadonlyArray<ExitName>;
  /** Validates the parsed flags (strings and booleans) into typed options, with defaults. */
  schema: S;
  run(options: z.output<S>, io: CommandIo): Promise<CommandResult>;
}

export function defineCommand<S extends z.ZodType>(command: Command<S>): Command<S> {
  return command;
}

/** Flags every command understands. */
export const COMMON_FLAGS: FlagSpec = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
};

/**
 * Parses argv for one command: unknown flags and stray arguments are usage errors (exit 2),
 * then the command's zod schema checks values and fills defaults.
 */
export function parseCommandArgs<S extends z.ZodType>(command: Command<S>, argv: string[]): { options: z.output<S>; json: boolean; help: boolean } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_FLAGS, ...command.flags }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new InputError("RECSYS_USAGE", `${(err as Error).message.split("\n")[0]} (see 'recsys ${command.name} --help')`);
  }
  const { help, json, ...values } = parsed.values as Record<string, unknown>;
  if (help) return { options: undefined as z.output<S>, json: Boolean(json), help: true };
  const input = { ...values, _: parsed.positionals };
  const options = parseOrThrow(command.schema, input, `recsys ${command.name}`, "RECSYS_USAGE");
  return { options, json: Boolean(json), help: false };
}
