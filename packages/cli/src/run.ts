import { version } from "../package.json";
import { EXIT_CODES } from "./exit-codes";
import { safeOutputStream, type OutputStream } from "./output-stream";
import { findCommand } from "./commands";
import { parseArguments, type CliArguments } from "./parse-arguments";
import { commandUsage, USAGE } from "./usage";
import { UsageError } from "./usage-error";

/** Where `run()` writes and which directory it works in. */
export interface RunIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Directory that `--target`, the definitions file search and `training-data`'s `--entities` and `--out` start from. */
  cwd: string;
  /** Aborts a running command (the `mlforge` binary wires it to SIGINT and SIGTERM); an `InterruptedError` reason picks the exit code. */
  signal?: AbortSignal;
}

/** Runs `mlforge` with `argv` (without `node` and the script) and resolves to its exit code; never rejects. */
export async function run(argv: readonly string[], io: RunIo): Promise<number> {
  // Everything printed passes through these: data, key values and messages may hold control characters.
  io = { ...io, stdout: safeOutputStream(io.stdout), stderr: safeOutputStream(io.stderr) };
  let args: CliArguments;
  try {
    args = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`Error: ${error.message}\nRun \`mlforge --help\` for usage.\n`);
    return EXIT_CODES.usage;
  }
  if (args.help) {
    const command = args.command === undefined ? undefined : findCommand(args.command);
    io.stdout.write(command === undefined ? USAGE : commandUsage(command));
    return EXIT_CODES.success;
  }
  if (args.version || args.command === undefined) {
    io.stdout.write(`${version}\n`);
    return EXIT_CODES.success;
  }
  // Loaded on demand: DuckDB and jiti take a few hundred milliseconds that --help and usage errors need not wait for.
  const { runCommand } = await import("./run-command");
  return runCommand({ ...args, command: args.command }, io);
}
