import { writeFile } from "node:fs/promises";
import path from "node:path";
import { feature } from "@mlforge/core";

export { literal, query as duckdb } from "@mlforge/test-support";

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
