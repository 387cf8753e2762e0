import type { CommandDescriptor, FlagDescriptor } from "./command-descriptor";
import { COMMANDS, GLOBAL_FLAGS } from "./commands";

const COLUMN = 19;

const EXAMPLE = `Example:
  mlforge training-data --features user_total_spend,user_spend_7d --entities labels.parquet \\
    --timestamp event_time --out train.parquet
`;

const EXIT_CODES_LINE = "Exit codes: 0 success, 1 a feature failed or another error, 2 usage error.\n";

/** `  left  text`, with the text's further lines indented under its first. */
function row(left: string, text: string): string {
  const [first, ...more] = text.split("\n");
  const padded = left.length >= COLUMN ? `${left} ` : left.padEnd(COLUMN);
  return [`  ${padded}${first}`, ...more.map((line) => `${" ".repeat(COLUMN + 2)}${line}`)].join("\n");
}

function flagLabel(flag: FlagDescriptor): string {
  const long = `--${flag.name}${flag.placeholder === undefined ? "" : ` ${flag.placeholder}`}`;
  return flag.short === undefined ? long : `-${flag.short}, ${long}`;
}

/** The text `mlforge --help` prints, derived from `COMMANDS` and `GLOBAL_FLAGS`. */
function globalUsage(): string {
  const commands = COMMANDS.map((command) => row(command.usage, command.summary));
  // A flag several commands take is one line: "build: only these features; training-data: …".
  const commandFlags = new Map<string, { flag: FlagDescriptor; texts: string[] }>();
  for (const command of COMMANDS) {
    for (const flag of command.flags) {
      const entry = commandFlags.get(flag.name) ?? { flag, texts: [] };
      entry.texts.push(`${command.name}: ${flag.description}`);
      commandFlags.set(flag.name, entry);
    }
  }
  const [first, ...last] = GLOBAL_FLAGS;
  const options = [
    row(flagLabel(first!), first!.description),
    ...[...commandFlags.values()].map(({ flag, texts }) => row(flagLabel(flag), texts.join("; "))),
    ...last.map((flag) => row(flagLabel(flag), flag.description)),
  ];
  return `Usage: mlforge <command> [options]\n\nCommands:\n${commands.join("\n")}\n\nOptions:\n${options.join("\n")}\n\n${EXAMPLE}\n${EXIT_CODES_LINE}`;
}

/** The text `mlforge <command> --help` prints; positionals with a description are listed under "Arguments:". */
export function commandUsage(command: CommandDescriptor): string {
  const options = [...command.flags, ...GLOBAL_FLAGS].map((flag) => row(flagLabel(flag), flag.description));
  const positionals = [command.positional, ...(command.optionalPositionals ?? [])]
    .filter((item) => item?.description !== undefined)
    .map((item) => row(item!.placeholder ?? `<${item!.name}>`, item!.description!));
  const argumentsPart = positionals.length === 0 ? "" : `Arguments:\n${positionals.join("\n")}\n\n`;
  return `Usage: mlforge ${command.usage} [options]\n\n${command.summary}.\n\n${argumentsPart}Options:\n${options.join("\n")}\n\n${EXIT_CODES_LINE}`;
}

/** The text `mlforge --help` prints. */
export const USAGE = globalUsage();
