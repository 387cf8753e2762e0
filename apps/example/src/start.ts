// Generates the transactions when they are missing, builds every feature and prints what was built.
import { existsSync } from "node:fs";
import path from "node:path";
import type { FeatureBuildResult } from "@mlforge/core";
import { formatBytes, formatCount, formatDuration } from "./format";
import { generateTransactions } from "./generate-transactions";
import { TRANSACTIONS_SOURCE } from "./features";

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

async function main(): Promise<number> {
  try {
    if (!existsSync(TRANSACTIONS_SOURCE)) {
      console.log(`${TRANSACTIONS_SOURCE} is missing; generating it.`);
      const written = await generateTransactions({ out: TRANSACTIONS_SOURCE });
      console.log(`Wrote ${formatCount(written.rows)} transactions (${formatBytes(written.bytes)}) in ${formatDuration(written.durationMs)}.\n`);
    }

    // Imported here so that a bad ENVIRONMENT is reported like any other failure.
    const { defs } = await import("./definitions");
    console.log(`Building ${defs.features.length} features of '${defs.name}' from ${TRANSACTIONS_SOURCE}:`);
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
              ? (entry.error?.message ?? "unknown error").split("\n")[0]
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
    const first = results[0];
    if (first !== undefined) console.log(`\nFeatures are in ${path.dirname(first.uri)}.`);
    return 0;
  } catch (error) {
    console.error(`\n${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main();
