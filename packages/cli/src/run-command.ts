import { MlforgeError } from "@mlforge/core";
import { buildCommand } from "./build-command";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { inspectCommand } from "./inspect-command";
import { listCommand } from "./list-command";
import { loadDefinitions } from "./load-definitions";
import type { CliArguments, CommandName } from "./parse-arguments";
import type { RunIo } from "./run";
import { trainingDataCommand } from "./training-data-command";
import { UsageError } from "./usage-error";

const commands: Record<CommandName, (context: CommandContext) => Promise<number>> = {
  build: buildCommand,
  list: listCommand,
  inspect: inspectCommand,
  "training-data": trainingDataCommand,
};

/** Loads the definitions and runs a parsed command; resolves to the exit code and never rejects. */
export async function runCommand(args: CliArguments & { command: CommandName }, io: RunIo): Promise<number> {
  try {
    const { definitions } = await loadDefinitions(io.cwd, args.target);
    return await commands[args.command]({ definitions, arguments: args, stdout: io.stdout, stderr: io.stderr, cwd: io.cwd, signal: io.signal });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`Error: ${error.message}\nRun \`mlforge --help\` for usage.\n`);
      return EXIT_CODES.usage;
    }
    if (io.signal?.aborted) {
      io.stderr.write("Interrupted.\n");
      return EXIT_CODES.interrupted;
    }
    // A known error is for the user: its message says what to do, a stack would only hide it.
    if (MlforgeError.isInstance(error)) io.stderr.write(`Error: ${error.message}\n`);
    else io.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_CODES.failure;
  }
}
