import type { FeatureDiff, FeatureVersion, ValueChange } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { formatCount, formatFields, formatTable, formatTime } from "./format";

/** A mean for people: four decimals at most (significant digits below 1), thousands separated; "-" for none. */
export function formatMean(value: number | null): string {
  if (value === null) return "-";
  if (value !== 0 && Math.abs(value) < 1) return value.toLocaleString("en-US", { maximumSignificantDigits: 4 });
  return value.toLocaleString("en-US", { maximumFractionDigits: 4 });
}

/** A change with its sign (`+1`, `-15`, `0`), formatted by `format`; "-" when a side is missing. */
function formatDelta(change: ValueChange, format: (value: number) => string): string {
  if (change.delta === null) return "-";
  return change.delta > 0 ? `+${format(change.delta)}` : format(change.delta);
}

function describeVersion(version: FeatureVersion): string {
  const built = version.builtAt === "" ? "" : `, built ${formatTime(version.builtAt)}`;
  return `${version.buildId}${version.current ? " (current)" : ""}${built}, ${formatCount(version.rows)} rows`;
}

/** "2 added, 1 removed, 0 changed". */
function counts(parts: ReadonlyArray<readonly [number, string]>): string {
  return parts.map(([count, what]) => `${formatCount(count)} ${what}`).join(", ");
}

/** Why rows could not be matched: the identity columns one of the builds lacks. */
function unmatchedReason(diff: FeatureDiff): string {
  const identity = diff.timestamp === null ? diff.keys : [...diff.keys, diff.timestamp];
  const onlyTo = identity.filter((name) => diff.columns.added.some((column) => column.name === name));
  const onlyFrom = identity.filter((name) => diff.columns.removed.some((column) => column.name === name));
  const missing = [...onlyTo.map((name) => `'${name}' is not in the from build`), ...onlyFrom.map((name) => `'${name}' is not in the to build`)];
  return `not compared: ${missing.join(", ") || "the builds do not share their key columns"}, so rows cannot be matched`;
}

/** The text report of `mlforge diff`. */
export function formatDiff(diff: FeatureDiff): string {
  const { columns, rows, keyValues } = diff;
  const identity = diff.timestamp === null ? diff.keys.join(", ") : `${diff.keys.join(", ")}, ${diff.timestamp}`;
  let text = `Feature ${diff.name}\n${formatFields([
    ["from", describeVersion(diff.from)],
    ["to", describeVersion(diff.to)],
  ])}`;

  const columnChanges = columns.added.length + columns.removed.length + columns.retyped.length;
  text += `\nColumns: ${columnChanges === 0 ? "unchanged" : counts([[columns.added.length, "added"], [columns.removed.length, "removed"], [columns.retyped.length, "retyped"]])}\n`;
  const lines = [
    ...columns.added.map((column) => ["+", column.name, column.type]),
    ...columns.removed.map((column) => ["-", column.name, column.type]),
    ...columns.retyped.map((column) => ["~", column.name, `${column.from} → ${column.to}`]),
  ];
  const width = Math.max(0, ...lines.map(([, name]) => name!.length));
  for (const [sign, name, type] of lines) text += `  ${sign} ${name!.padEnd(width)}  ${type}\n`;

  text += `\nRows (by ${identity}): `;
  text += rows === null ? `${unmatchedReason(diff)}\n` : `${counts([[rows.added, "added"], [rows.removed, "removed"], [rows.changed, "changed"]])}\n`;
  if (keyValues !== null) text += `Keys (${diff.keys.join(", ")}): ${counts([[keyValues.added, "added"], [keyValues.removed, "removed"]])}\n`;

  if (diff.numeric.length > 0) {
    const table = formatTable(
      [
        { header: "numeric column" },
        { header: "mean (from)", align: "right" },
        { header: "mean (to)", align: "right" },
        { header: "change", align: "right" },
        { header: "nulls (from)", align: "right" },
        { header: "nulls (to)", align: "right" },
        { header: "change", align: "right" },
      ],
      diff.numeric.map(({ name, mean, nullCount }) => [
        name,
        formatMean(mean.from),
        formatMean(mean.to),
        formatDelta(mean, (value) => formatMean(value)),
        nullCount.from === null ? "-" : formatCount(nullCount.from),
        nullCount.to === null ? "-" : formatCount(nullCount.to),
        formatDelta(nullCount, formatCount),
      ]),
    );
    text += `\n${table.replace(/^(?=.)/gm, "  ")}`;
  }

  // Same columns and no row added, removed or changed: every value is the same.
  if (columnChanges === 0 && rows !== null && rows.added + rows.removed + rows.changed === 0) text += "\nNo differences.\n";
  return text;
}

/** `mlforge diff <feature> [<from> [<to>]]`: how two builds of a feature differ (default: previous → current); exit 0 whenever it could compare. */
export async function diffCommand(context: CommandContext): Promise<number> {
  const { definitions, arguments: args, stdout } = context;
  const diff = await definitions.diff(args.feature ?? "", {
    ...(args.fromVersion === undefined ? {} : { from: args.fromVersion }),
    ...(args.toVersion === undefined ? {} : { to: args.toVersion }),
  });
  stdout.write(args.json ? `${JSON.stringify(diff, null, 2)}\n` : formatDiff(diff));
  return EXIT_CODES.success;
}
