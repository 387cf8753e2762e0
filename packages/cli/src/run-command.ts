import { MlforgeError, type Definitions } from "@mlforge/core";
import { findCommand } from "./commands";
import { EXIT_CODES } from "./exit-codes";
import { InterruptedError } from "./interrupted-error";
import { loadDefinitions } from "./load-definitions";
import type { CliArguments, CommandName } from "./parse-arguments";
import type { RunIo } from "./run";
import { UsageError } from "./usage-error";

/**
 * Loads the definitions, runs a parsed command and closes the definitions' stores (their clients and
 * connections), so that the process can end by itself; resolves to the exit code and never rejects.
 */
export async function runCommand(args: CliArguments & { command: CommandName }, io: RunIo): Promise<number> {
  let definitions: Definitions | undefined;
  try {
    ({ definitions } = await loadDefinitions(io.cwd, args.target));
    return await findCommand(args.command)!.run({ definitions, arguments: args, stdout: io.stdout, stderr: io.stderr, cwd: io.cwd, signal: io.signal });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`Error: ${error.message}\nRun \`mlforge --help\` for usage.\n`);
      return EXIT_CODES.usage;
    }
    if (io.signal?.aborted) {
      const terminated = InterruptedError.isInstance(io.signal.reason) && io.signal.reason.signal === "SIGTERM";
      io.stderr.write(terminated ? "Terminated.\n" : "Interrupted.\n");
      return terminated ? EXIT_CODES.terminated : EXIT_CODES.interrupted;
    }
    // A known error is for the user: its message says what to do, a stack would only hide it.
    if (MlforgeError.isInstance(error)) io.stderr.write(`Error: ${error.message}\n`);
    else io.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_CODES.failure;
  } finally {
    // The outcome is decided and reported: a store that fails to close (its server gone) changes
    // neither. Guarded: the user's file may load an older copy of @mlforge/core without close().
    if (typeof definitions?.close === "function") await definitions.close().catch(() => undefined);
  }
}
