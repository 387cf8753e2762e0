// Usage: npm run train -- [--labels data/labels.parquet] [--out data/train.parquet]
// Generates the transactions and labels when they are missing, builds the features it needs
// (unchanged ones are skipped), writes the point-in-time training set and describes it.
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { formatBytes, formatCell, formatCount, formatDuration, formatPath, formatPercent, formatTable } from "./format";
import { TRANSACTIONS_SOURCE } from "./features";
import { DEFAULT_LABELS_PATH, generateLabels, LABEL_COLUMN } from "./generate-labels";
import { generateTransactions } from "./generate-transactions";

/** Where the training set is written by default. */
const DEFAULT_TRAINING_PATH = "data/train.parquet";

/**
 * The features of the training set. `user_spend` has a timestamp, so each label row gets the
 * 7- and 30-day windows as of its `event_time`. `user_total_spend` and `user_avg_spend` have none: they are
 * lifetime values over all transactions, including those after `event_time`, so they leak the
 * future the label describes. Keeping them is a modelling choice this example leaves to the user;
 * a model meant for production would use only point-in-time features.
 */
const TRAINING_FEATURES = ["user_total_spend", "user_avg_spend", "user_spend"];

const usage = `Usage: npm run train -- [--labels FILE] [--out FILE]

  --labels FILE  entity rows with user_id, event_time and ${LABEL_COLUMN}; generated when missing (default ${DEFAULT_LABELS_PATH})
  --out FILE     Parquet file to write the training set to (default ${DEFAULT_TRAINING_PATH})`;

interface TrainingStatistics {
  /** Share of rows whose label is true. */
  labelRate: number;
  /** Rows without a user_spend value: the user bought nothing before the day of `event_time`. */
  withoutSpend7d: number;
}

/** Label rates of the written training set, computed by DuckDB over the file: its rows never come into JavaScript. */
async function statistics(file: string): Promise<TrainingStatistics> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`
      SELECT
        avg(${LABEL_COLUMN}::INTEGER) AS label_rate,
        count(*) FILTER (WHERE amount_count_30d IS NULL)::BIGINT AS without_spend_7d
      FROM read_parquet('${path.resolve(file).replaceAll("'", "''")}')`);
    const [row] = reader.getRowObjectsJS();
    return {
      labelRate: Number(row?.label_rate ?? 0),
      withoutSpend7d: Number(row?.without_spend_7d ?? 0),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function main(): Promise<number> {
  let labels: string;
  let out: string;
  try {
    const { values } = parseArgs({ options: { labels: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    labels = values.labels ?? DEFAULT_LABELS_PATH;
    out = values.out ?? DEFAULT_TRAINING_PATH;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }

  try {
    const started = performance.now();
    if (!existsSync(TRANSACTIONS_SOURCE)) {
      console.log(`${TRANSACTIONS_SOURCE} is missing; generating it.`);
      const written = await generateTransactions({ out: TRANSACTIONS_SOURCE });
      console.log(`Wrote ${formatCount(written.rows)} transactions (${formatBytes(written.bytes)}) in ${formatDuration(written.durationMs)}.`);
    }
    if (!existsSync(labels)) {
      console.log(`${formatPath(labels)} is missing; generating it from ${TRANSACTIONS_SOURCE}.`);
      const written = await generateLabels({ transactions: TRANSACTIONS_SOURCE, out: labels });
      console.log(`Wrote ${formatCount(written.rows)} labels (${formatBytes(written.bytes)}) in ${formatDuration(written.durationMs)}.`);
    }

    // Imported here so that a bad ENVIRONMENT is reported like any other failure.
    const { defs } = await import("./definitions");
    const build = await defs.build({ features: TRAINING_FEATURES });
    const built = build.built.map((entry) => entry.name);
    console.log(
      `Features: ${built.length > 0 ? `built ${built.join(", ")}` : "none built"}; ${build.skipped.length} unchanged (skipped) in ${formatDuration(build.durationMs)}.`,
    );

    const frame = await defs.getTrainingData({ features: TRAINING_FEATURES, entities: labels, timestamp: "event_time" });
    let sample: Record<string, unknown>[];
    try {
      // Copied from the store's files to Parquet inside DuckDB; only the 5 sample rows come into JavaScript.
      await frame.writeParquet(out);
      sample = await frame.head(5);
    } finally {
      await frame.close();
    }
    const { size } = await stat(out);
    const numbers = await statistics(out);

    console.log(`\nWrote the training set to ${formatPath(out)} in ${formatDuration(performance.now() - started)}:`);
    console.log(`  rows     ${formatCount(frame.numRows)} (one per label row of ${formatPath(labels)}, in its order)`);
    console.log(`  columns  ${frame.columns.length}: ${frame.columns.join(", ")}`);
    console.log(`  size     ${formatBytes(size)} (${formatCount(size)} bytes)`);
    console.log(`  label    ${LABEL_COLUMN} is true for ${formatPercent(numbers.labelRate)} of rows`);
    console.log(`  nulls    ${formatCount(numbers.withoutSpend7d)} rows have no user_spend value yet (no purchase before their day)`);
    const numeric = frame.schema.flatMap((column, index) => (/INT|DOUBLE|DECIMAL|FLOAT/.test(column.type) ? [index] : []));
    console.log(`\nFirst ${sample.length} rows:\n`);
    console.log(formatTable(frame.columns, sample.map((row) => frame.columns.map((name) => formatCell(row[name]))), numeric));
    return 0;
  } catch (error) {
    console.error(`\n${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main();
