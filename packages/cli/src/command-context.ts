import type { Definitions } from "@mlforge/core";
import type { CliArguments } from "./parse-arguments";
import type { OutputStream } from "./output-stream";

/** What a command runs with: the user's definitions, the parsed command line and the output streams. */
export interface CommandContext {
  definitions: Definitions;
  arguments: CliArguments;
  stdout: OutputStream;
  stderr: OutputStream;
  /** Directory that relative `--entities` and `--out` paths resolve from. */
  cwd: string;
  /** Aborts a running command (SIGINT, SIGTERM). */
  signal?: AbortSignal;
}
