import type { CommandDescriptor, FlagDescriptor } from "./command-descriptor";
import { parseEntities, parseRowCount, parseShard, splitList, splitSelections } from "./flag-values";
import { SERVE_FLAGS } from "./serve-command";
import type { CliArguments } from "./parse-arguments";
import { UsageError } from "./usage-error";

// Each command's implementation is imported when it runs: DuckDB and jiti take a few hundred
// milliseconds that --help and usage errors need not wait for.

/** Flags every command takes; `--target` is listed first in help, the others last. */
export const GLOBAL_FLAGS: readonly FlagDescriptor[] = [
  {
    name: "target",
    type: "string",
    placeholder: "<file>",
    description:
      "Definitions file (.ts, .mts, .js, .mjs) exporting `defs` or a default Definitions\n(default: definitions.{ts,mts,js,mjs} or src/definitions.{ts,mts,js,mjs} in the working directory)",
  },
  { name: "json", type: "boolean", description: "Print one JSON document on stdout instead of text" },
  { name: "help", type: "boolean", short: "h", description: "Show this help" },
  { name: "version", type: "boolean", short: "v", description: "Show the version" },
];

/** File types `training-data --out` can write. */
const OUTPUT_EXTENSIONS: readonly string[] = [".parquet", ".csv", ".csv.gz"];

const trainingDataExample = "`mlforge training-data --features user_total_spend --entities labels.parquet --timestamp event_time --out train.parquet`";

/**
 * `training-data` needs features, entities and an output file of a known type; the timestamp is
 * optional. With `--reproduce`, the features and timestamp come from the training set's manifest.
 */
function checkTrainingData(result: CliArguments): void {
  if (result.reproduce !== undefined) {
    if (result.reproduce.trim() === "") throw new UsageError("--reproduce needs the training set file to make again, for example --reproduce train.parquet.");
    const taken = [result.features === undefined ? undefined : "--features", result.timestamp === undefined ? undefined : "--timestamp"].filter((flag) => flag !== undefined);
    if (taken.length > 0) {
      throw new UsageError(`--reproduce takes the features, their versions, the timestamp column and the join plans from the training set's manifest: drop ${taken.join(" and ")}.`);
    }
    const absent = [
      result.entities === undefined || result.entities.trim() === "" ? "--entities" : undefined,
      result.out === undefined || result.out.trim() === "" ? "--out" : undefined,
    ].filter((flag) => flag !== undefined);
    if (absent.length > 0) {
      throw new UsageError(`training-data --reproduce needs ${absent.join(", ")}, for example \`mlforge training-data --reproduce train.parquet --entities labels.parquet --out again.parquet\`.`);
    }
  }
  const missing = [
    result.features === undefined && result.reproduce === undefined ? "--features" : undefined,
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

/** `get` reads for at least one entity, and its positional names at least one feature. */
function checkGet(result: CliArguments): void {
  splitSelections(result.feature);
  if (result.entity === undefined) {
    throw new UsageError("get needs --entity, the key values of each entity to read, for example `mlforge get user_total_spend --entity user_id=u1 --entity user_id=u2`.");
  }
}

/** `rollback` restores one version: `--to <buildId>` or `--previous`, not both. */
function checkRollback(result: CliArguments): void {
  const example = "`mlforge rollback user_total_spend --previous` or `mlforge rollback user_total_spend --to <build id from mlforge versions>`";
  if (result.to !== undefined && result.previous) throw new UsageError(`rollback takes --to <buildId> or --previous, not both. For example ${example}.`);
  if (result.to === undefined && !result.previous) throw new UsageError(`rollback needs the version to restore: --to <buildId> or --previous, for example ${example}.`);
  if (result.to !== undefined && result.to.trim() === "") throw new UsageError(`--to needs a build id, as \`mlforge versions ${result.feature ?? "<feature>"}\` lists them.`);
}

/** `--features` of the commands that select features to work on. */
const SELECT_FEATURES: FlagDescriptor = {
  name: "features",
  type: "string",
  multiple: true,
  placeholder: "<a,b>",
  description: "only these features",
  parse: (values: string[]) => splitList("features", values),
};

/** `--tags` of the commands that select features to work on. */
const SELECT_TAGS: FlagDescriptor = {
  name: "tags",
  type: "string",
  multiple: true,
  placeholder: "<t1,t2>",
  description: "only features carrying at least one of these tags",
  parse: (values: string[]) => splitList("tags", values),
};

/** Every command, in the order `mlforge --help` lists them. */
export const COMMANDS: readonly CommandDescriptor[] = [
  {
    name: "build",
    summary: "Build features into the offline store (unchanged ones are skipped)",
    usage: "build",
    flags: [
      SELECT_FEATURES,
      SELECT_TAGS,
      { name: "force", type: "boolean", default: false, description: "rebuild even unchanged features" },
      { name: "online", type: "boolean", default: false, description: "then sync the built features to the online store (unchanged ones are skipped)" },
      {
        name: "shard",
        type: "string",
        placeholder: "<i/n>",
        description:
          "only share i of n of the selected features (1-based), for n machines building\ninto one store; from a 0-based index: --shard $((JOB_COMPLETION_INDEX + 1))/n",
        parse: parseShard,
      },
    ],
    run: async (context) => (await import("./build-command")).buildCommand(context),
  },
  {
    name: "sync-online",
    summary: "Sync the built features to the online store (ones already served are skipped)",
    usage: "sync-online",
    flags: [SELECT_FEATURES, SELECT_TAGS, { name: "force", type: "boolean", default: false, description: "re-sync even features already served at their current build" }],
    run: async (context) => (await import("./sync-online-command")).syncOnlineCommand(context),
  },
  {
    name: "get",
    summary: "Read features' online values for entities",
    usage: "get <features>",
    positional: { name: "feature", label: "feature list (feature or feature.column, comma-separated)", example: "user_total_spend --entity user_id=u1" },
    flags: [
      {
        name: "entity",
        type: "string",
        multiple: true,
        placeholder: "<col=v>",
        description: "the key values of one entity, once per entity (composite keys:\n--entity user_id=u1,country=DE)",
        parse: parseEntities,
      },
    ],
    check: checkGet,
    run: async (context) => (await import("./get-command")).getCommand(context),
  },
  {
    name: "list",
    summary: "List every feature and whether it is built",
    usage: "list",
    flags: [],
    run: async (context) => (await import("./list-command")).listCommand(context),
  },
  {
    name: "inspect",
    summary: "Show a feature's definition, build metadata, schema and first rows",
    usage: "inspect <feature>",
    positional: { name: "feature", label: "feature name", example: "user_total_spend" },
    flags: [{ name: "rows", type: "string", placeholder: "<n>", description: "how many sample rows to show (default 5; 0 for none)", parse: parseRowCount }],
    check: (args) => {
      if (args.json && args.rows !== undefined) {
        throw new UsageError("--rows sets the sample rows of inspect's text output; with --json inspect prints the metadata document alone. Drop one of the two.");
      }
    },
    run: async (context) => (await import("./inspect-command")).inspectCommand(context),
  },
  {
    name: "versions",
    summary: "List the kept versions (builds) of a feature, newest first, the current one marked",
    usage: "versions <feature>",
    positional: { name: "feature", label: "feature name", example: "user_total_spend" },
    flags: [],
    run: async (context) => (await import("./versions-command")).versionsCommand(context),
  },
  {
    name: "rollback",
    summary: "Make a kept version of a feature current again (the next sync-online serves it)",
    usage: "rollback <feature>",
    positional: { name: "feature", label: "feature name", example: "user_total_spend --previous" },
    flags: [
      { name: "to", type: "string", placeholder: "<buildId>", description: "the build id of the version to restore, as `mlforge versions` lists it" },
      { name: "previous", type: "boolean", default: false, description: "restore the newest kept version older than the current one" },
      { name: "dry-run", type: "boolean", default: false, description: "say what would be restored and change nothing" },
    ],
    check: checkRollback,
    run: async (context) => (await import("./rollback-command")).rollbackCommand(context),
  },
  {
    name: "diff",
    summary: "Compare two builds of a feature: columns, rows and keys added or removed, numeric means and null counts",
    usage: "diff <feature> [<from> [<to>]]",
    positional: { name: "feature", label: "feature name", example: "user_total_spend", placeholder: "<feature>", description: "the feature to compare two builds of" },
    optionalPositionals: [
      {
        name: "fromVersion",
        label: "build to compare from",
        example: "user_total_spend previous current",
        placeholder: "<from>",
        description: 'the older build: a build id from `mlforge versions <feature>`,\n"previous" (the build before the current one; the default) or "current"',
      },
      { name: "toVersion", label: "build to compare with", example: "user_total_spend previous current", placeholder: "<to>", description: 'the newer build: a build id, "previous" or "current" (the default)' },
    ],
    flags: [],
    run: async (context) => (await import("./diff-command")).diffCommand(context),
  },
  {
    name: "training-data",
    summary: "Join features to entity rows point in time and write the result to a file",
    usage: "training-data",
    flags: [
      { name: "features", type: "string", multiple: true, placeholder: "<a,b>", description: "the features to join, in column order", parse: (values: string[]) => splitList("features", values) },
      { name: "entities", type: "string", placeholder: "<file>", description: "the entity rows (.parquet, .csv, .json, .ndjson): keys, event time, labels" },
      {
        name: "timestamp",
        type: "string",
        placeholder: "<col>",
        description: "the entity rows' event-time column; features with a timestamp\nare joined as of it (required when any selected feature has a timestamp)",
      },
      { name: "out", type: "string", placeholder: "<file>", description: "the file to write, .parquet, .csv or .csv.gz (replaced if it exists)" },
      {
        name: "reproduce",
        type: "string",
        placeholder: "<file>",
        description:
          "make again the training set <file> (a .parquet training-data wrote) from its\nmanifest: the same feature builds, timestamp and join plans; --entities must be\nthe same rows, in the same order (no --features, --timestamp)",
      },
    ],
    check: checkTrainingData,
    run: async (context) => (await import("./training-data-command")).trainingDataCommand(context),
  },
  {
    name: "serve",
    summary: "Serve online lookups, the catalog page, metrics and OpenAPI over HTTP",
    usage: "serve",
    flags: SERVE_FLAGS,
    run: async (context) => (await import("./serve-command")).serveCommand(context),
  },
  {
    name: "ui",
    summary: "Open the feature catalog over the offline store (no online store needed)",
    usage: "ui",
    flags: SERVE_FLAGS,
    run: async (context) => (await import("./ui-command")).uiCommand(context),
  },
  {
    name: "validate",
    summary: "Run the features' transforms and checks without publishing anything",
    usage: "validate",
    flags: [
      { name: "features", type: "string", multiple: true, placeholder: "<a,b>", description: "only these features", parse: (values: string[]) => splitList("features", values) },
      { name: "tags", type: "string", multiple: true, placeholder: "<t1,t2>", description: "only features carrying at least one of these tags", parse: (values: string[]) => splitList("tags", values) },
    ],
    run: async (context) => (await import("./validate-command")).validateCommand(context),
  },
];

/** The command called `name`, or undefined. */
export function findCommand(name: string): CommandDescriptor | undefined {
  return COMMANDS.find((command) => command.name === name);
}
