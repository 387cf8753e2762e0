import { parseArgs } from "node:util";
import type { Shard } from "./shard";
import { UsageError } from "./usage-error";

/** A command the CLI runs. */
export type CommandName = "build" | "list" | "inspect" | "training-data";

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
  /** `--rows`: how many sample rows `inspect` shows. */
  rows?: number;
  /** `--entities`: the entity rows file of `training-data`, as given. */
  entities?: string;
  /** `--timestamp`: the entity rows' event-time column. */
  timestamp?: string;
  /** `--out`: the file `training-data` writes, as given. */
  out?: string;
  /** `--shard i/n`: build only the i-th of n shares of the selected features. */
  shard?: Shard;
  force: boolean;
  json: boolean;
  help: boolean;
  version: boolean;
}

const commands: readonly CommandName[] = ["build", "list", "inspect", "training-data"];

/** Which commands take each command-specific flag. */
const flagCommands: Readonly<Record<string, readonly CommandName[]>> = {
  features: ["build", "training-data"],
  tags: ["build"],
  force: ["build"],
  shard: ["build"],
  rows: ["inspect"],
  entities: ["training-data"],
  timestamp: ["training-data"],
  out: ["training-data"],
};

/** File types `training-data --out` can write. */
const OUTPUT_EXTENSIONS: readonly string[] = [".parquet", ".csv", ".csv.gz"];

const trainingDataExample = "`mlforge training-data --features user_total_spend --entities labels.parquet --timestamp event_time --out train.parquet`";

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

/** "`mlforge build` only", "`mlforge build` and `mlforge training-data` only". */
function describeCommands(names: readonly CommandName[]): string {
  const quoted = names.map((name) => `\`mlforge ${name}\``);
  return quoted.length === 1 ? `${quoted[0]} only` : `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)} only`;
}

/** Parses `--rows`: a whole number of at least 0. */
function parseRowCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim().replaceAll("_", "");
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new UsageError(`--rows needs a whole number of at least 0, got '${value}'. For example --rows 10, or --rows 0 for no sample.`);
  }
  return Number(trimmed);
}

/** Parses `--shard i/n`: whole numbers with 1 <= i <= n. */
function parseShard(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(
      `--shard needs i/n, the 1-based share i of n shares with 1 <= i <= n, got '${value}'. ` +
        "For example --shard 2/4; from a 0-based index such as JOB_COMPLETION_INDEX pass --shard $((JOB_COMPLETION_INDEX + 1))/4.",
    );
  }
  return { index, count };
}

/** `training-data` needs features, entities and an output file of a known type; the timestamp is optional. */
function checkTrainingData(result: CliArguments): void {
  const missing = [
    result.features === undefined ? "--features" : undefined,
    result.entities === undefined || result.entities.trim() === "" ? "--entities" : undefined,
    result.out === undefined || result.out.trim() === "" ? "--out" : undefined,
  ].filter((flag) => flag !== undefined);
  if (missing.length > 0) {
    throw new UsageError(`training-data needs ${missing.join(", ")}, for example ${trainingDataExample}.`);
  }
  if (result.timestamp !== undefined && result.timestamp.trim() === "") {
    throw new UsageError("--timestamp needs the entity rows' event-time column, for example --timestamp event_time.");
  }
  const out = result.out!.toLowerCase();
  if (!OUTPUT_EXTENSIONS.some((extension) => out.endsWith(extension))) {
    throw new UsageError(`--out '${result.out}' has an unknown file type. Name a .parquet, .csv or .csv.gz file, for example --out train.parquet.`);
  }
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
        shard: { type: "string" },
        rows: { type: "string" },
        entities: { type: "string" },
        timestamp: { type: "string" },
        out: { type: "string" },
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
    shard: parseShard(values.shard),
    rows: parseRowCount(values.rows),
    entities: values.entities,
    timestamp: values.timestamp,
    out: values.out,
    json: values.json ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
  };
  if (result.help || result.version) return result;

  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError(`No command given. Use one of: ${commands.join(", ")}.`);
  if (!isCommand(command)) throw new UsageError(`Unknown command '${command}'. Use one of: ${commands.join(", ")}.`);
  result.command = command;
  if (result.target !== undefined && result.target.trim() === "") throw new UsageError("--target needs a file path, for example --target src/definitions.ts.");

  if (command === "inspect") {
    if (rest.length === 0) throw new UsageError("inspect needs a feature name, for example `mlforge inspect user_total_spend`.");
    if (rest.length > 1) throw new UsageError(`inspect takes one feature name, got ${rest.length}: ${rest.join(", ")}.`);
    result.feature = rest[0];
  } else if (rest.length > 0) {
    throw new UsageError(`${command} takes no arguments, got: ${rest.join(" ")}. Select features with --features a,b.`);
  }
  const misplaced = Object.keys(flagCommands).filter((flag) => values[flag as keyof typeof values] !== undefined && !flagCommands[flag]!.includes(command));
  if (misplaced.length > 0) {
    // One sentence per set of commands: "--tags, --force apply to `mlforge build` only."
    const groups = new Map<string, string[]>();
    for (const flag of misplaced) groups.set(flagCommands[flag]!.join(), [...(groups.get(flagCommands[flag]!.join()) ?? []), flag]);
    const sentences = [...groups.values()].map(
      (flags) => `${flags.map((flag) => `--${flag}`).join(", ")} ${flags.length === 1 ? "applies" : "apply"} to ${describeCommands(flagCommands[flags[0]!]!)}.`,
    );
    throw new UsageError(sentences.join(" "));
  }
  if (command === "inspect" && result.json && result.rows !== undefined) {
    throw new UsageError("--rows sets the sample rows of inspect's text output; with --json inspect prints the metadata document alone. Drop one of the two.");
  }
  if (command === "training-data") checkTrainingData(result);
  return result;
}
