import type { BuildResult, FeatureBuildResult } from "@mlforge/core";
import { formatBytes, formatCount, formatDuration, formatTable } from "./format";

/** A build result as JSON: errors become `{ name, message }`. */
export function buildResultToJson(result: BuildResult): Record<string, unknown> {
  const entry = (item: FeatureBuildResult) => ({
    ...item,
    ...(item.error === undefined ? {} : { error: { name: item.error.name, message: item.error.message } }),
  });
  return { built: result.built.map(entry), skipped: result.skipped.map(entry), failed: result.failed.map(entry), durationMs: result.durationMs };
}

/** The text summary of a build: a table of features, the failures' messages and a totals line. */
export function formatBuildSummary(result: BuildResult, order: readonly string[] = []): string {
  const position = (name: string) => {
    const index = order.indexOf(name);
    return index === -1 ? order.length : index;
  };
  const entries = [...result.built, ...result.skipped, ...result.failed].sort((a, b) => position(a.name) - position(b.name));
  let text = "";
  if (entries.length > 0) {
    text += formatTable(
      [{ header: "name" }, { header: "status" }, { header: "rows", align: "right" }, { header: "size", align: "right" }, { header: "duration", align: "right" }],
      entries.map((item) => [
        item.name,
        item.status,
        item.status === "failed" ? "-" : formatCount(item.rows),
        item.status === "failed" ? "-" : formatBytes(item.bytes),
        formatDuration(item.durationMs),
      ]),
    );
  } else {
    text += "No features matched the selection.\n";
  }
  const noted = entries.filter((item) => item.note !== undefined);
  if (noted.length > 0) {
    text += "\nNotes:\n";
    for (const item of noted) text += `  ${item.name}: ${item.note}\n`;
  }
  if (result.failed.length > 0) text += `\n${formatFailures(result.failed)}`;
  text += `\n${result.built.length} built, ${result.skipped.length} skipped, ${result.failed.length} failed in ${(result.durationMs / 1000).toFixed(1)} s\n`;
  return text;
}

/** The "Failed:" list of the failed entries among `entries` with their messages; "" when none failed. */
export function formatFailures(entries: readonly FeatureBuildResult[]): string {
  const failed = entries.filter((item) => item.status === "failed");
  if (failed.length === 0) return "";
  let text = "Failed:\n";
  for (const item of failed) {
    const message = (item.error?.message ?? "unknown error").replace(/\n/g, "\n    ");
    text += `  ${item.name}: ${message}\n`;
  }
  return text;
}
