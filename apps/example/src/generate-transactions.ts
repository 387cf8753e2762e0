import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

/** Where `generateTransactions` writes by default, relative to the working directory. */
export const DEFAULT_TRANSACTIONS_PATH = "data/transactions.parquet";

/** The last day of generated data: fixed, so that the same arguments always give the same rows. */
export const LAST_DAY = "2025-06-30";

/** Days of history before and including `LAST_DAY`. */
export const HISTORY_DAYS = 90;

/** Options of `generateTransactions()`. */
export interface GenerateTransactionsOptions {
  /** Number of transactions. @default 200_000 */
  rows?: number;
  /** Parquet file to write (parent folders are created); relative paths resolve from `process.cwd()`. @default "data/transactions.parquet" */
  out?: string;
  /** Seed of the pseudo-random draws: the same seed and options give the same rows. @default 42 */
  seed?: number;
  /** Number of distinct users; 5% of them are heavy buyers making about 30% of the purchases. @default 3_000 */
  users?: number;
  /** Number of distinct products, with skewed popularity. @default 400 */
  products?: number;
}

/** What `generateTransactions()` wrote. */
export interface GeneratedTransactions {
  /** Absolute path of the Parquet file. */
  path: string;
  rows: number;
  bytes: number;
  durationMs: number;
}

/**
 * DuckDB SQL defining `uniform(i, seed, purpose)`: a draw in [0, 1) from the top 53 bits of
 * hash('purpose:seed:i'). Hashing one string keeps the purposes independent; hash(i, seed, purpose)
 * gives strongly correlated draws.
 */
export const UNIFORM_MACRO =
  "CREATE TEMP MACRO uniform(i, seed, purpose) AS (hash(concat(purpose, ':', seed, ':', i)) >> 11)::DOUBLE / 9007199254740992";

function assertCount(name: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new RangeError(`Option '${name}' must be an integer of at least ${minimum}, got ${String(value)}.`);
  }
}

function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The query producing the transactions: every draw is DuckDB's deterministic `hash()` of (row, seed, purpose). */
/** Digits of the largest index below `count`, at least `minimum`. */
function idWidth(count: number, minimum: number): number {
  return Math.max(minimum, String(count - 1).length);
}

function transactionsSql(rows: number, seed: number, users: number, products: number): string {
  const heavyUsers = Math.max(1, Math.round(users * 0.05));
  return `
    WITH draws AS (
      SELECT
        i,
        uniform(i, ${seed}, 'heavy') < 0.3 AS heavy,
        uniform(i, ${seed}, 'user') AS u_user,
        uniform(i, ${seed}, 'product') AS u_product,
        uniform(i, ${seed}, 'quantity') AS u_quantity,
        uniform(i, ${seed}, 'discount') AS u_discount,
        uniform(i, ${seed}, 'time') AS u_time
      FROM range(${rows}) AS t(i)
    ),
    picked AS (
      SELECT
        i,
        floor(u_user * CASE WHEN heavy THEN ${heavyUsers} ELSE ${users} END)::BIGINT AS user_index,
        -- Squaring a uniform draw favours low indexes: product 0 sells most, the tail sells little.
        floor(pow(u_product, 2) * ${products})::BIGINT AS product_index,
        1 + (u_quantity < 0.15)::INTEGER + (u_quantity < 0.03)::INTEGER AS quantity,
        u_discount < 0.1 AS discounted,
        TIMESTAMP '${LAST_DAY}' + INTERVAL 1 DAY - INTERVAL ${HISTORY_DAYS} DAY
          + to_seconds(floor(u_time * ${HISTORY_DAYS * 86_400})::BIGINT) AS event_time
      FROM draws
    ),
    prices AS (
      -- Log-normal list prices (Box-Muller), median about $20, rounded to end in .99.
      SELECT
        p AS product_index,
        greatest(1, round(exp(3.0 + 0.9 * sqrt(-2 * ln(1 - uniform(p, ${seed}, 'price_r'))) * cos(2 * pi() * uniform(p, ${seed}, 'price_a'))))) - 0.01 AS price
      FROM range(${products}) AS t(p)
    )
    SELECT
      row_number() OVER (ORDER BY event_time, i) AS transaction_id,
      -- lpad truncates longer strings, so the width grows with the count: ids never collide.
      'user_' || lpad(user_index::VARCHAR, ${idWidth(users, 5)}, '0') AS user_id,
      'prod_' || lpad(product_index::VARCHAR, ${idWidth(products, 4)}, '0') AS product_id,
      round(price * quantity * CASE WHEN discounted THEN 0.8 ELSE 1 END, 2)::DECIMAL(10, 2) AS amount,
      event_time
    FROM picked JOIN prices USING (product_index)
    ORDER BY transaction_id`;
}

/**
 * Writes synthetic purchases to a Parquet file: transaction_id, user_id, product_id, amount,
 * event_time over the 90 days ending 2025-06-30. Computed inside DuckDB and deterministic:
 * the same options always give the same rows.
 */
export async function generateTransactions(options: GenerateTransactionsOptions = {}): Promise<GeneratedTransactions> {
  const started = performance.now();
  const { rows = 200_000, seed = 42, users = 3_000, products = 400 } = options;
  assertCount("rows", rows, 1);
  assertCount("users", users, 1);
  assertCount("products", products, 1);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Option 'seed' must be an integer, got ${String(seed)}.`);

  const target = path.resolve(options.out ?? DEFAULT_TRANSACTIONS_PATH);
  await mkdir(path.dirname(target), { recursive: true });
  // Written beside the target and renamed, so that a reader never sees half a file.
  const staged = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);

  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(UNIFORM_MACRO);
    await connection.run(`COPY (${transactionsSql(rows, seed, users, products)}) TO ${quote(staged)} (FORMAT parquet)`);
    await rename(staged, target);
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const { size } = await stat(target);
  return { path: target, rows, bytes: size, durationMs: performance.now() - started };
}
