import { stat } from "node:fs/promises";
import path from "node:path";
import type { Column, TrainingManifest } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { formatBytes, formatCount, formatDuration, formatFields } from "./format";
import { UsageError } from "./usage-error";

/** What `mlforge training-data` wrote; `--json` prints it as is. */
export interface TrainingDataSummary {
  /** Absolute path of the written file. */
  path: string;
  format: "parquet" | "csv";
  rows: number;
  /** Column names, in order: the entity columns, then each feature's value columns. */
  columns: string[];
  /** Column names with their DuckDB types. */
  schema: Column[];
  bytes: number;
  durationMs: number;
  /** What the training set was made from (a `.parquet` --out carries it in its footer); null when a feature's data has no build id. */
  manifest: TrainingManifest | null;
  /** The training set `--reproduce` made again, as an absolute path; absent without `--reproduce`. */
  reproduced?: string;
}

const MAX_LISTED_COLUMNS = 12;

/** The text summary of `mlforge training-data`. */
export function formatTrainingDataSummary(summary: TrainingDataSummary, shownPath: string): string {
  const { columns } = summary;
  const listed = columns.slice(0, MAX_LISTED_COLUMNS).join(", ") + (columns.length > MAX_LISTED_COLUMNS ? `, … ${columns.length - MAX_LISTED_COLUMNS} more` : "");
  return (
    `Wrote training data to ${shownPath}\n` +
    formatFields([
      ["rows", formatCount(summary.rows)],
      ["columns", `${formatCount(columns.length)}: ${listed}`],
      ["format", summary.format],
      ["size", formatBytes(summary.bytes)],
      ["duration", formatDuration(summary.durationMs)],
      ...(summary.manifest === null ? [] : ([["builds", summary.manifest.features.map(({ name, buildId, plan }) => `${name} ${buildId} (${plan})`).join("\n")]] as const)),
      ...(summary.reproduced === undefined ? [] : ([["reproduced", `${summary.reproduced} (same builds, plans and entity rows)`]] as const)),
    ])
  );
}

/** A path as given when `cwd` is the process's working directory (core resolves from there), else resolved from `cwd`. */
function fromWorkingDirectory(cwd: string, file: string): string {
  return path.resolve(cwd) === process.cwd() ? file : path.resolve(cwd, file);
}

/** Throws `UsageError` when `out` cannot be a file: it is a directory, or a part of its path is a file. */
async function checkOut(out: string, given: string): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (info?.isDirectory()) throw new UsageError(`--out '${given}' is a directory. Give a file path such as ${path.join(given, "train.parquet")}.`);
  for (let parent = path.dirname(out); parent !== path.dirname(parent); parent = path.dirname(parent)) {
    const parentInfo = await stat(parent).catch(() => undefined);
    if (parentInfo === undefined) continue;
    if (!parentInfo.isDirectory()) throw new UsageError(`--out '${given}' cannot be written: '${parent}' is a file, not a directory. Choose another path.`);
    return;
  }
}

/**
 * `mlforge training-data`: joins the features to the entity rows point in time and writes the
 * result to `--out` (Parquet, or CSV by extension) inside DuckDB; prints a summary on stdout.
 */
export async function trainingDataCommand(context: CommandContext): Promise<number> {
  const { definitions, arguments: args, stdout, cwd } = context;
  const started = performance.now();
  const out = path.resolve(cwd, args.out!);
  const format = out.toLowerCase().endsWith(".parquet") ? "parquet" : "csv";
  await checkOut(out, args.out!);

  // A signal interrupts DuckDB's work: nothing is written (a previous --out file stays) and no
  // staged or temporary file is left.
  const signal = context.signal === undefined ? {} : { signal: context.signal };
  const entities = fromWorkingDirectory(cwd, args.entities!);
  const frame = await (args.reproduce === undefined
    ? definitions.getTrainingData({ features: args.features!, entities, ...(args.timestamp === undefined ? {} : { timestamp: args.timestamp }), ...signal })
    : definitions.getTrainingData({ reproduce: fromWorkingDirectory(cwd, args.reproduce), entities, ...signal }));
  let rows: number;
  let schema: Column[];
  let manifest: TrainingManifest | null;
  try {
    // Rows go from the store's files to the output file inside DuckDB, never through JavaScript.
    if (format === "parquet") await frame.writeParquet(out, signal);
    else await frame.writeCsv(out, signal);
    rows = frame.numRows;
    schema = frame.schema.map((column) => ({ name: column.name, type: column.type }));
    manifest = frame.manifest ?? null;
  } finally {
    await frame.close();
  }

  const summary: TrainingDataSummary = {
    path: out,
    format,
    rows,
    columns: schema.map((column) => column.name),
    schema,
    bytes: (await stat(out)).size,
    durationMs: performance.now() - started,
    manifest,
    ...(args.reproduce === undefined ? {} : { reproduced: path.resolve(cwd, args.reproduce) }),
  };
  stdout.write(args.json ? `${JSON.stringify(summary, null, 2)}\n` : formatTrainingDataSummary(summary, args.out!));
  return EXIT_CODES.success;
}
