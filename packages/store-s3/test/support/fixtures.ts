import { writeFile } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { feature } from "@mlforge/core";

/** Runs one DuckDB statement in a throw-away in-memory database and returns its rows. */
export async function duckdb(sql: string): Promise<Record<string, unknown>[]> {
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

/** Writes the transactions CSV the features below read: u1 spends 10.5 + 5, u2 spends 7. */
export async function writeTransactions(directory: string): Promise<string> {
  const file = path.join(directory, "transactions.csv");
  await writeFile(file, "user_id,amount\nu1,10.5\nu2,7\nu1,5\n");
  return file;
}

/** `user_total_spend`: lifetime spend per user. */
export function userTotalSpend(source: string) {
  return feature({ name: "user_total_spend", keys: ["user_id"], source }, (transactions) => `SELECT user_id, sum(amount) AS total_spend FROM ${transactions} GROUP BY user_id`);
}
