import type { FeatureSyncResult, OnlineSyncResult } from "@mlforge/core";
import { formatCount, formatDuration, formatTable } from "./format";

/** An online sync result as JSON: errors become `{ name, message }`. */
export function syncResultToJson(result: OnlineSyncResult): Record<string, unknown> {
  const entry = (item: FeatureSyncResult) => ({
    ...item,
    ...(item.error === undefined ? {} : { error: { name: item.error.name, message: item.error.message } }),
  });
  return { synced: result.synced.map(entry), skipped: result.skipped.map(entry), failed: result.failed.map(entry), durationMs: result.durationMs };
}

/** The text summary of an online sync: a table of features with the build each serves, the failures' messages and a totals line. */
export function formatSyncSummary(result: OnlineSyncResult, order: readonly string[] = []): string {
  const position = (name: string) => {
    const index = order.indexOf(name);
    return index === -1 ? order.length : index;
  };
  const entries = [...result.synced, ...result.skipped, ...result.failed].sort((a, b) => position(a.name) - position(b.name));
  let text = "";
  if (entries.length > 0) {
    text += formatTable(
      [{ header: "name" }, { header: "status" }, { header: "build" }, { header: "rows", align: "right" }, { header: "duration", align: "right" }],
      entries.map((item) => [
        item.name,
        item.status,
        item.buildId === "" ? "-" : item.buildId,
        item.status === "failed" ? "-" : formatCount(item.rows),
        formatDuration(item.durationMs),
      ]),
    );
  } else {
    text += "No features matched the selection.\n";
  }
  if (result.failed.length > 0) {
    text += "\nFailed:\n";
    for (const item of result.failed) {
      const message = (item.error?.message ?? "unknown error").replace(/\n/g, "\n    ");
      text += `  ${item.name}: ${message}\n`;
    }
    text += "Readers keep the previous build of each failed feature.\n";
  }
  text += `\n${result.synced.length} synced, ${result.skipped.length} skipped, ${result.failed.length} failed in ${(result.durationMs / 1000).toFixed(1)} s\n`;
  return text;
}
