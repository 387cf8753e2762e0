import type { CommandContext } from "./command-context";
import type { CliArguments } from "./parse-arguments";

/** One command-line flag: parsed, checked, shown in `--help` and placed from this description alone. */
export interface FlagDescriptor {
  /** The flag without `--`; also the `CliArguments` field it fills. */
  name: keyof CliArguments & string;
  /** `string` takes a value; `boolean` does not. */
  type: "string" | "boolean";
  /** May be given more than once (`--features a --features b`). @default false */
  multiple?: boolean;
  /** The one-letter alias, such as `h` for `-h`. @default none */
  short?: string;
  /** The value's placeholder in help, such as `<file>`. @default none */
  placeholder?: string;
  /** The help text; a line break continues under the first line. */
  description: string;
  /** The value when the flag is absent, if not undefined; shown in help only through the description. @default undefined (false for booleans) */
  default?: unknown;
  /** Turns the raw value(s) into the field's value; throws `UsageError` when they are wrong. @default the raw value */
  parse?: (value: never) => unknown;
}

/** A positional argument of a command. */
export interface PositionalDescriptor {
  /** The `CliArguments` field it fills. */
  name: keyof CliArguments & string;
  /** What it is, in messages: "feature name". */
  label: string;
  /** A value for messages' examples: "user_total_spend". */
  example: string;
  /** Its placeholder in help, such as `<from>`. @default `<name>` */
  placeholder?: string;
  /** What it means, shown under "Arguments:" in the command's help. @default none (not listed) */
  description?: string;
}

/** One `mlforge` command, described once: parsing, `--help` and dispatch are derived from it. */
export interface CommandDescriptor {
  name: string;
  /** One line, for the command list of `mlforge --help`. */
  summary: string;
  /** The command with its positionals, such as `inspect <feature>`. */
  usage: string;
  /** At most one, required. @default none */
  positional?: PositionalDescriptor;
  /** Positionals that may follow the required one, in order; each may be left out from the end. @default none */
  optionalPositionals?: readonly PositionalDescriptor[];
  /** The flags only this command takes (global flags are in `GLOBAL_FLAGS`). */
  flags: readonly FlagDescriptor[];
  /** Checks flags against each other once parsed; throws `UsageError`. @default none */
  check?: (args: CliArguments) => void;
  /** Runs the command; resolves to the exit code. Loads its implementation on demand, so that `--help` stays fast. */
  run: (context: CommandContext) => Promise<number>;
}
