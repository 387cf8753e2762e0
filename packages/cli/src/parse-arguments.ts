import { parseArgs } from "node:util";
import { UsageError } from "./usage-error";

/** A command the CLI runs. */
export type CommandName = "build" | "list" | "inspect";

/** The command line, parsed and checked. */
export interface CliArguments {
  /** The command, or undefined with `--help` / `--version` alone. */
  command: CommandName | undefined;
  /** The feature `inspect` shows. */
  feature?: string;
  /** The `--target` definitions file, as given. */
  target?: string;
  /** `--features`, split on commas. */
  features?: string[];
  /** `--tags`, split on commas. */
  tags?: string[];
  force: boolean;
  json: boolean;
  help: boolean;
  version: boolean;
}

const commands: readonly CommandName[] = ["build", "list", "inspect"];

function isCommand(value: string): value is CommandName {
  return (commands as readonly string[]).includes(value);
}

/** Splits repeated, comma-separated flag values (`--features a,b --features c`) into names. */
function splitList(flag: string, values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const names = values.flatMap((value) => value.split(",")).map((name) => name.trim()).filter((name) => name !== "");
  if (names.length === 0) throw new UsageError(`--${flag} needs at least one name, for example --${flag} a,b.`);
  return names;
}

/** Parses `mlforge` arguments (without `node` and the script); throws `UsageError` on a bad command line. */
export function parseArguments(argv: readonly string[]): CliArguments {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        target: { type: "string" },
        features: { type: "string", multiple: true },
        tags: { type: "string", multiple: true },
        force: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (error) {
    // parseArgs explains the problem well ("Unknown option '--frce'"); keep its words, drop its advice about "--".
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, "") : String(error);
    throw new UsageError(message.endsWith(".") ? message : `${message}.`);
  }
  const { values, positionals } = parsed;
  const result: CliArguments = {
    command: undefined,
    target: values.target,
    features: splitList("features", values.features),
    tags: splitList("tags", values.tags),
    force: values.force ?? false,
    json: values.json ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
  };
  if (result.help || result.version) return result;

  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError("No command given. Use one of: build, list, inspect.");
  if (!isCommand(command)) throw new UsageError(`Unknown command '${command}'. Use one of: build, list, inspect.`);
  result.command = command;
  if (result.target !== undefined && result.target.trim() === "") throw new UsageError("--target needs a file path, for example --target src/definitions.ts.");

  if (command === "inspect") {
    if (rest.length === 0) throw new UsageError("inspect needs a feature name, for example `mlforge inspect user_total_spend`.");
    if (rest.length > 1) throw new UsageError(`inspect takes one feature name, got ${rest.length}: ${rest.join(", ")}.`);
    result.feature = rest[0];
  } else if (rest.length > 0) {
    throw new UsageError(`${command} takes no arguments, got: ${rest.join(" ")}. Select features with --features a,b.`);
  }
  if (command !== "build") {
    const buildOnly = (["features", "tags", "force"] as const).filter((flag) => values[flag] !== undefined);
    if (buildOnly.length > 0) {
      throw new UsageError(`${buildOnly.map((flag) => `--${flag}`).join(", ")} ${buildOnly.length === 1 ? "applies" : "apply"} to \`mlforge build\` only.`);
    }
  }
  return result;
}
