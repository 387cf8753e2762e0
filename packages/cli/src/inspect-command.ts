import type { Feature, FeatureMetadata } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { formatCheckResult } from "./validate-command";
import { formatBytes, formatCount, formatDuration, formatFields, formatTable, formatTime, formatValue, isNumericType, type TableColumn } from "./format";

/** How many sample rows `mlforge inspect` shows without `--rows`. */
export const DEFAULT_SAMPLE_ROWS = 5;

/** What an inspect section is drawn from. */
export interface InspectSubject {
  feature: Feature;
  metadata: FeatureMetadata | undefined;
  context: CommandContext;
}

/** One titled part of `mlforge inspect`'s text output; returns undefined to be left out. */
export type InspectSection = (subject: InspectSubject) => Promise<string | undefined> | string | undefined;

function titled(title: string, body: string): string {
  return `${title}\n${body}`;
}

const definitionSection: InspectSection = ({ feature }) =>
  titled(
    `Feature ${feature.name}`,
    formatFields([
      ["keys", feature.keys.join(", ")],
      ["timestamp", feature.timestamp ?? "-"],
      ["source", feature.source],
      ["description", feature.description ?? "-"],
      ["tags", feature.tags.length > 0 ? feature.tags.join(", ") : "-"],
      ...(feature.rolling === undefined
        ? []
        : ([
            ["rolling", `every ${feature.rolling.interval.label} over ${feature.rolling.windows.map((window) => window.label).join(", ")} of ${feature.rolling.eventTime}`],
            ["aggregations", Object.entries(feature.rolling.aggregations).map(([column, list]) => `${column}: ${list.join(", ")}`).join("\n")],
          ] as const)),
    ]),
  );

const checksSection: InspectSection = ({ metadata }) =>
  metadata?.checks === undefined || metadata.checks.length === 0
    ? undefined
    : titled("Checks (last build)", `${metadata.checks.map((check) => `  ${formatCheckResult(check)}`).join("\n")}\n`);

const buildSection: InspectSection = ({ metadata }) =>
  metadata &&
  titled(
    "Build",
    formatFields([
      ["rows", formatCount(metadata.rows)],
      ["size", formatBytes(metadata.bytes)],
      ["built at", formatTime(metadata.builtAt)],
      ["duration", formatDuration(metadata.durationMs)],
      ["fingerprint", metadata.fingerprint],
      ["source files", metadata.sourceFiles.map((file) => `${file.path} (${formatBytes(file.size)})`).join("\n") || "-"],
    ]),
  );

const schemaSection: InspectSection = ({ metadata }) =>
  metadata &&
  titled(
    "Schema",
    formatTable(
      [{ header: "column" }, { header: "type" }],
      metadata.schema.map((column) => [column.name, column.type]),
    ).replace(/^(?=.)/gm, "  "),
  );

const sampleSection: InspectSection = async ({ feature, metadata, context }) => {
  const limit = context.arguments.rows ?? DEFAULT_SAMPLE_ROWS;
  if (metadata === undefined || limit === 0) return undefined;
  const frame = await context.definitions.read(feature.name);
  try {
    // head() limits inside DuckDB: only the sample reaches JavaScript, however large the feature.
    const rows = await frame.head(limit);
    if (rows.length === 0) return titled("Sample rows", "  (no rows)\n");
    const title = rows.length < frame.numRows ? `Sample rows (first ${formatCount(rows.length)} of ${formatCount(frame.numRows)})` : `Sample rows (all ${formatCount(rows.length)})`;
    const table = formatTable(
      frame.schema.map((column): TableColumn => ({ header: column.name, align: isNumericType(column.type) ? "right" : "left" })),
      rows.map((row) => frame.schema.map((column) => formatValue(row[column.name], column.type))),
    );
    return titled(title, table.replace(/^(?=.)/gm, "  "));
  } finally {
    await frame.close();
  }
};

/** The sections of `mlforge inspect`, in order; a new one is one more entry. */
export const INSPECT_SECTIONS: readonly InspectSection[] = [definitionSection, buildSection, checksSection, schemaSection, sampleSection];

/**
 * The feature's metadata as its data file describes it: after a build killed between writing the
 * data and the metadata document, the document is stale and the file's footer is the truth.
 */
async function storedMetadata(context: CommandContext, name: string): Promise<FeatureMetadata | undefined> {
  const document = await context.definitions.metadata(name);
  if (document === undefined) return undefined;
  const frame = await context.definitions.read(name);
  try {
    return frame.metadata ?? document;
  } finally {
    await frame.close();
  }
}

/** `mlforge inspect <feature>`: a feature's definition, build metadata, schema and first rows (`--rows`, default 5). */
export async function inspectCommand(context: CommandContext): Promise<number> {
  const name = context.arguments.feature ?? "";
  const feature = context.definitions.feature(name);
  const metadata = await storedMetadata(context, name);
  const notBuilt = `Feature '${name}' has not been built yet. Run \`mlforge build --features ${name}\`.\n`;
  if (context.arguments.json) {
    if (metadata === undefined) {
      context.stderr.write(notBuilt);
      return 1;
    }
    context.stdout.write(`${JSON.stringify(metadata, null, 2)}\n`);
    return 0;
  }
  const parts: string[] = [];
  for (const section of INSPECT_SECTIONS) {
    const text = await section({ feature, metadata, context });
    if (text !== undefined) parts.push(text);
  }
  context.stdout.write(parts.join("\n"));
  if (metadata === undefined) {
    context.stderr.write(`\n${notBuilt}`);
    return 1;
  }
  return 0;
}
