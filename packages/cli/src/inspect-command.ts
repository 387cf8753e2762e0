import type { Feature, FeatureMetadata } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { formatBytes, formatCount, formatDuration, formatFields, formatTable, formatTime } from "./format";

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
    ]),
  );

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

/** The sections of `mlforge inspect`, in order; a new one (such as sample rows) is one more entry. */
export const INSPECT_SECTIONS: readonly InspectSection[] = [definitionSection, buildSection, schemaSection];

/** `mlforge inspect <feature>`: a feature's definition, build metadata and schema. */
export async function inspectCommand(context: CommandContext): Promise<number> {
  const name = context.arguments.feature ?? "";
  const feature = context.definitions.feature(name);
  const metadata = await context.definitions.metadata(name);
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
