export { runCli } from "./main.ts";
export type { CommandIo, CommandResult } from "./command.ts";
