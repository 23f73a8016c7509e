import { parseArgs, type ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { InputError, type ExitName } from "@recsys/core";

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
 * then the command's zod schema checks values and fills defaults. Messages name the flag and
 * point at --help; the CLI adds the `recsys <command>: ` prefix.
 */
export function parseCommandArgs<S extends z.ZodType>(command: Command<S>, argv: string[]): { options: z.output<S>; json: boolean; help: boolean } {
  const see = `(see 'recsys ${command.name} --help')`;
  const config = { args: argv, options: { ...COMMON_FLAGS, ...command.flags }, allowPositionals: true };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ ...config, strict: true });
  } catch (err) {
    throw new InputError("RECSYS_USAGE", `${usageProblem(err as Error & { code?: string }, config)} ${see}`);
  }
  const { help, json, ...values } = parsed.values as Record<string, unknown>;
  if (help) return { options: undefined as z.output<S>, json: Boolean(json), help: true };
  const result = command.schema.safeParse({ ...values, _: parsed.positionals });
  if (!result.success) throw new InputError("RECSYS_USAGE", `${result.error.issues.map(flagIssue).join("; ")} ${see}`);
  return { options: result.data, json: Boolean(json), help: false };
}

/**
 * parseArgs' own message, except for an unknown option: Node's text for that runs on with advice
 * about '--' and leaves a quote open, so the flag is named here from parseArgs' tokens instead.
 */
function usageProblem(err: Error & { code?: string }, config: ParseArgsConfig & { options: FlagSpec }): string {
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const unknown = parseArgs({ ...config, strict: false, tokens: true }).tokens
      .find((t) => t.kind === "option" && !Object.hasOwn(config.options, t.name));
    if (unknown?.kind === "option") return `unknown flag '${unknown.rawName}'`;
  }
  return err.message.split("\n")[0]!;
}

/** One zod issue as the user typed it: `--factors: must be a whole number`; a message that already names its flag stands alone. */
function flagIssue(issue: { path: PropertyKey[]; message: string }): string {
  if (issue.message.startsWith("-")) return issue.message;
  const key = issue.path[0];
  const where = key === undefined ? "" : key === "_" ? "arguments: " : `--${String(key)}: `;
  return `${where}${issue.message}`;
}
