import { existsSync } from "node:fs";
import type { Definitions, FeatureBuildResult } from "@mlforge/core";
import { TRANSACTIONS_SOURCE } from "./features";
import { formatBytes, formatCount, formatDuration } from "./format";
import { generateTransactions } from "./generate-transactions";

/** Options of `buildExample()`. */
export interface BuildExampleOptions {
  /** How many transactions to generate when the transactions file is missing. @default 200_000 (generateTransactions' default) */
  rows?: number;
}

/** What `buildExample()` built, and with which definitions. */
export interface BuildExampleResult {
  /** The definitions of the current ENVIRONMENT. */
  defs: Definitions;
  /** Every feature's outcome, in the order they finished. */
  results: FeatureBuildResult[];
}

function table(results: readonly FeatureBuildResult[], totalMs: number): string {
  const header = ["feature", "status", "rows", "size", "duration"];
  const rows = results.map((entry) => [entry.name, entry.status, formatCount(entry.rows), formatBytes(entry.bytes), formatDuration(entry.durationMs)]);
  const total = [
    `total (${results.length} features)`,
    "",
    formatCount(results.reduce((sum, entry) => sum + entry.rows, 0)),
    formatBytes(results.reduce((sum, entry) => sum + entry.bytes, 0)),
    formatDuration(totalMs),
  ];
  const all = [header, ...rows, total];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column >= 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(header), rule, ...rows.map(line), rule, line(total)].join("\n");
}

/**
 * `npm start`'s flow: generates the transactions when they are missing, then builds every feature
 * into the store of the current ENVIRONMENT (unchanged ones are skipped), printing a line per
 * feature and a table. When a feature fails it rejects, after printing the table.
 */
export async function buildExample(options: BuildExampleOptions = {}): Promise<BuildExampleResult> {
  if (!existsSync(TRANSACTIONS_SOURCE)) {
    console.log(`${TRANSACTIONS_SOURCE} is missing; generating it.`);
    const written = await generateTransactions({ out: TRANSACTIONS_SOURCE, ...(options.rows === undefined ? {} : { rows: options.rows }) });
    console.log(`Wrote ${formatCount(written.rows)} transactions (${formatBytes(written.bytes)}) in ${formatDuration(written.durationMs)}.\n`);
  }

  // Imported here, after the caller has set the environment: definitions.ts picks its store from ENVIRONMENT when first imported.
  const { defs } = await import("./definitions");
  console.log(`Building ${defs.features.length} features of '${defs.name}' from ${TRANSACTIONS_SOURCE} into ${defs.offlineStore.location}:`);
  const started = performance.now();
  const results: FeatureBuildResult[] = [];
  let failure: unknown;
  try {
    await defs.build({
      onProgress: (event) => {
        if (event.type !== "end") return;
        const { result: entry } = event;
        results.push(entry);
        const detail =
          entry.status === "failed"
            ? (entry.error?.message ?? "unknown error").replace(/\n/g, "\n      ")
            : `${formatCount(entry.rows)} rows, ${formatBytes(entry.bytes)}`;
        console.log(`  [${event.index + 1}/${event.total}] ${entry.name}: ${entry.status} (${detail}) in ${formatDuration(entry.durationMs)}`);
      },
    });
  } catch (error) {
    // A BuildError still leaves every feature's outcome in `results`: show the table first.
    failure = error;
  }
  if (results.length > 0) console.log(`\n${table(results, performance.now() - started)}`);
  if (failure !== undefined) throw failure;
  return { defs, results };
}
