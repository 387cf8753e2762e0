import { parseArgs, type ParseArgsConfig } from "node:util";
import type { FlagDescriptor } from "./command-descriptor";
import { COMMANDS, findCommand, GLOBAL_FLAGS } from "./commands";
import type { Shard } from "./shard";
import { UsageError } from "./usage-error";

/** A command the CLI runs: the name of one of `COMMANDS`. */
export type CommandName = string;

/** The command line, parsed and checked. */
export interface CliArguments {
  /** The command, or undefined with `--help` / `--version` alone (with `--help`, the command whose help to show). */
  command: CommandName | undefined;
  /** The positional: the feature `inspect`, `versions` and `rollback` work on, or the comma-separated features (and `feature.column`s) `get` reads. */
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
  /** `--reproduce`: the training set `training-data` makes again from its manifest, as given. */
  reproduce?: string;
  /** `--shard i/n`: build only the i-th of n shares of the selected features. */
  shard?: Shard;
  /** `--entity`: the entities `get` reads, one key object per flag, values as given (strings). */
  entity?: Array<Record<string, string>>;
  /** `--online`: `build` then syncs to the online store. */
  online: boolean;
  /** `--host` of `serve` and `ui`. */
  host?: string;
  /** `--port` of `serve` and `ui`. */
  port?: number;
  /** `--token` of `serve` and `ui`. */
  token?: string;
  /** `--to`: the build id `rollback` restores. */
  to?: string;
  /** `--previous`: `rollback` restores the newest kept version older than the current one. */
  previous: boolean;
  /** `--dry-run`: `rollback` says what it would do and changes nothing. */
  "dry-run": boolean;
  /** `diff`'s second positional: the build to compare from (a build id, "previous" or "current"). */
  fromVersion?: string;
  /** `diff`'s third positional: the build to compare with (a build id, "previous" or "current"). */
  toVersion?: string;
  force: boolean;
  json: boolean;
  help: boolean;
  version: boolean;
}

/** "`mlforge build` only", "`mlforge build` and `mlforge training-data` only". */
function describeCommands(names: readonly CommandName[]): string {
  const quoted = names.map((name) => `\`mlforge ${name}\``);
  return quoted.length === 1 ? `${quoted[0]} only` : `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)} only`;
}

/** Every flag once, global ones first, with the commands that take it (undefined: every command). */
function allFlags(): Map<string, { flag: FlagDescriptor; commands: CommandName[] | undefined }> {
  const flags = new Map<string, { flag: FlagDescriptor; commands: CommandName[] | undefined }>();
  for (const flag of GLOBAL_FLAGS) flags.set(flag.name, { flag, commands: undefined });
  for (const command of COMMANDS) {
    for (const flag of command.flags) {
      const seen = flags.get(flag.name);
      if (seen === undefined) flags.set(flag.name, { flag, commands: [command.name] });
      else if (seen.commands !== undefined && seen.flag.type === flag.type && seen.flag.multiple === flag.multiple) seen.commands.push(command.name);
      else throw new Error(`Flag --${flag.name} of ${command.name} clashes with another flag of that name.`);
    }
  }
  return flags;
}

/** Parses `mlforge` arguments (without `node` and the script); throws `UsageError` on a bad command line. */
export function parseArguments(argv: readonly string[]): CliArguments {
  const flags = allFlags();
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const { flag } of flags.values()) {
    options[flag.name] = { type: flag.type, ...(flag.multiple ? { multiple: true } : {}), ...(flag.short === undefined ? {} : { short: flag.short }) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    // parseArgs explains the problem well ("Unknown option '--frce'"); keep its words, drop its advice about "--".
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, "") : String(error);
    throw new UsageError(message.endsWith(".") ? message : `${message}.`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const { positionals } = parsed;
  const result = { command: undefined } as CliArguments;
  const fields = result as unknown as Record<string, unknown>;
  for (const { flag } of flags.values()) {
    const raw = values[flag.name];
    fields[flag.name] = flag.parse !== undefined ? flag.parse(raw as never) : (raw ?? flag.default ?? (flag.type === "boolean" ? false : undefined));
  }
  const [command, ...rest] = positionals;
  const descriptor = command === undefined ? undefined : findCommand(command);
  if (result.help || result.version) {
    // `mlforge inspect --help` shows inspect's help.
    if (result.help) result.command = descriptor?.name;
    return result;
  }

  const names = COMMANDS.map((item) => item.name);
  if (command === undefined) throw new UsageError(`No command given. Use one of: ${names.join(", ")}.`);
  if (descriptor === undefined) throw new UsageError(`Unknown command '${command}'. Use one of: ${names.join(", ")}.`);
  result.command = descriptor.name;
  if (result.target !== undefined && result.target.trim() === "") throw new UsageError("--target needs a file path, for example --target src/definitions.ts.");

  const { positional } = descriptor;
  const optional = descriptor.optionalPositionals ?? [];
  if (positional !== undefined) {
    if (rest.length === 0) throw new UsageError(`${command} needs a ${positional.label}, for example \`mlforge ${command} ${positional.example}\`.`);
    if (rest.length > 1 + optional.length) {
      throw new UsageError(
        optional.length === 0
          ? `${command} takes one ${positional.label}, got ${rest.length}: ${rest.join(", ")}.`
          : `${command} takes a ${positional.label} and at most ${optional.length} more (${optional.map((item) => item.placeholder ?? `<${item.name}>`).join(", ")}), got ${rest.length} arguments: ${rest.join(", ")}.`,
      );
    }
    fields[positional.name] = rest[0];
    for (const [index, item] of optional.entries()) if (rest[index + 1] !== undefined) fields[item.name] = rest[index + 1];
  } else if (rest.length > 0) {
    throw new UsageError(`${command} takes no arguments, got: ${rest.join(" ")}. Select features with --features a,b.`);
  }
  const misplaced = [...flags.values()].filter(({ flag, commands }) => values[flag.name] !== undefined && commands !== undefined && !commands.includes(command));
  if (misplaced.length > 0) {
    // One sentence per set of commands: "--tags, --force apply to `mlforge build` only."
    const groups = new Map<string, { flags: string[]; commands: CommandName[] }>();
    for (const { flag, commands } of misplaced) {
      const group = groups.get(commands!.join()) ?? { flags: [], commands: commands! };
      group.flags.push(flag.name);
      groups.set(commands!.join(), group);
    }
    const sentences = [...groups.values()].map(
      (group) => `${group.flags.map((flag) => `--${flag}`).join(", ")} ${group.flags.length === 1 ? "applies" : "apply"} to ${describeCommands(group.commands)}.`,
    );
    throw new UsageError(sentences.join(" "));
  }
  descriptor.check?.(result);
  return result;
}
