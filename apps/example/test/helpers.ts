import { DuckDBInstance } from "@duckdb/node-api";

/** Rows of a DuckDB query as plain JavaScript objects, from a fresh in-memory database. */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A generated transaction as the tests see it: the amount in whole cents. */
export interface Transaction {
  transactionId: number;
  userId: string;
  productId: string;
  cents: number;
  eventTime: Date;
}

/** Reads a generated transactions file into JavaScript, in file order. */
export async function readTransactions(file: string): Promise<Transaction[]> {
  const rows = await query(`SELECT * FROM read_parquet(${literal(file)})`);
  return rows.map((row) => ({
    transactionId: Number(row.transaction_id),
    userId: String(row.user_id),
    productId: String(row.product_id),
    cents: Math.round(Number(row.amount) * 100),
    eventTime: row.event_time as Date,
  }));
}
