import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DEFAULT_TRANSACTIONS_PATH, UNIFORM_MACRO } from "./generate-transactions";

/** Where `generateLabels` writes by default, relative to the working directory. */
export const DEFAULT_LABELS_PATH = "data/labels.parquet";

/** Name of the label column: true when the user buys nothing in the 7 days after `event_time`. */
export const LABEL_COLUMN = "churned";

/** Days after `event_time` that the label looks at, and days of history kept before the first label. */
export const LABEL_HORIZON_DAYS = 7;

/** Options of `generateLabels()`. */
export interface GenerateLabelsOptions {
  /** Number of label rows. @default 50_000 */
  rows?: number;
  /** The transactions the users, times and labels come from; relative paths resolve from `process.cwd()`. @default "data/transactions.parquet" */
  transactions?: string;
  /** Parquet file to write (parent folders are created); relative paths resolve from `process.cwd()`. @default "data/labels.parquet" */
  out?: string;
  /** Seed of the pseudo-random draws: the same seed, options and transactions give the same rows. @default 42 */
  seed?: number;
}

/** What `generateLabels()` wrote. */
export interface GeneratedLabels {
  /** Absolute path of the Parquet file. */
  path: string;
  rows: number;
  /** Rows whose label is true: users who bought nothing in the 7 days after `event_time`. */
  positives: number;
  bytes: number;
  durationMs: number;
}

function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The query producing the labels. Users are drawn uniformly from those in the transactions, times
 * uniformly (to the second) between `start` and `start + spanSeconds`; every draw is DuckDB's
 * deterministic `hash()` of (row, seed, purpose), with purposes the transactions do not use.
 */
function labelsSql(transactions: string, rows: number, seed: number, start: string, spanSeconds: number, users: number): string {
  return `
    WITH transactions AS (
      SELECT user_id, event_time FROM read_parquet(${quote(transactions)})
    ),
    users AS (
      SELECT user_id, row_number() OVER (ORDER BY user_id) - 1 AS user_index
      FROM (SELECT DISTINCT user_id FROM transactions)
    ),
    draws AS (
      SELECT
        i,
        floor(uniform(i, ${seed}, 'label_user') * ${users})::BIGINT AS user_index,
        TIMESTAMP ${quote(start)} + to_seconds(floor(uniform(i, ${seed}, 'label_time') * ${spanSeconds})::BIGINT) AS event_time
      FROM range(${rows}) AS t(i)
    ),
    entities AS (
      SELECT i, user_id, event_time FROM draws JOIN users USING (user_index)
    )
    SELECT
      e.user_id,
      e.event_time,
      -- Only what happens strictly after event_time: the label is the future the features must not see.
      NOT EXISTS (
        SELECT 1 FROM transactions AS t
        WHERE t.user_id = e.user_id
          AND t.event_time > e.event_time
          AND t.event_time <= e.event_time + INTERVAL ${LABEL_HORIZON_DAYS} DAY
      ) AS ${LABEL_COLUMN}
    FROM entities AS e
    ORDER BY e.event_time, e.i`;
}

/**
 * Writes entity rows for training to a Parquet file: `user_id`, `event_time` and the binary label
 * `churned`, true when the user buys nothing in the 7 days after `event_time` (a purchase at
 * `event_time` itself does not count), computed from the transactions. Times fall between 7 days
 * after the first transaction, so that features have some history, and 7 days before the last, so
 * that every label's window is fully observed. Rows are in time order. Computed inside DuckDB and
 * deterministic: the same options and transactions always give the same rows.
 */
export async function generateLabels(options: GenerateLabelsOptions = {}): Promise<GeneratedLabels> {
  const started = performance.now();
  const { rows = 50_000, seed = 42 } = options;
  if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`Option 'rows' must be an integer of at least 1, got ${String(rows)}.`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Option 'seed' must be an integer, got ${String(seed)}.`);

  const transactions = options.transactions ?? DEFAULT_TRANSACTIONS_PATH;
  const source = path.resolve(transactions);
  if (!existsSync(source)) {
    throw new Error(`Transactions file '${transactions}' does not exist (looked for ${source}). Generate it first with \`npm run generate\`.`);
  }
  const target = path.resolve(options.out ?? DEFAULT_LABELS_PATH);
  await mkdir(path.dirname(target), { recursive: true });
  // Written beside the target and renamed, so that a reader never sees half a file.
  const staged = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);

  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(UNIFORM_MACRO);
    const [bounds] = (
      await connection.runAndReadAll(`
        SELECT
          strftime(date_trunc('second', min(event_time)) + INTERVAL ${LABEL_HORIZON_DAYS} DAY, '%Y-%m-%d %H:%M:%S') AS start,
          floor(epoch(max(event_time) - INTERVAL ${LABEL_HORIZON_DAYS} DAY) - epoch(date_trunc('second', min(event_time)) + INTERVAL ${LABEL_HORIZON_DAYS} DAY))::BIGINT AS span_seconds,
          count(DISTINCT user_id)::BIGINT AS users
        FROM read_parquet(${quote(source)})`)
    ).getRowObjectsJS();
    const spanSeconds = Number(bounds?.span_seconds ?? 0);
    if (bounds?.start === null || spanSeconds <= 0) {
      throw new RangeError(
        `Transactions file '${transactions}' spans too little time for labels: they need more than ${2 * LABEL_HORIZON_DAYS} days ` +
          `(${LABEL_HORIZON_DAYS} of history before the first label, ${LABEL_HORIZON_DAYS} to observe the last). Generate more history.`,
      );
    }
    const sql = labelsSql(source, rows, seed, String(bounds!.start), spanSeconds, Number(bounds!.users));
    await connection.run(`COPY (${sql}) TO ${quote(staged)} (FORMAT parquet)`);
    const [counts] = (
      await connection.runAndReadAll(`SELECT count(*) FILTER (WHERE ${LABEL_COLUMN})::BIGINT AS positives FROM read_parquet(${quote(staged)})`)
    ).getRowObjectsJS();
    await rename(staged, target);
    const { size } = await stat(target);
    return { path: target, rows, positives: Number(counts?.positives ?? 0), bytes: size, durationMs: performance.now() - started };
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
