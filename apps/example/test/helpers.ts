import { execFile } from "node:child_process";
import path from "node:path";
import { literal, query } from "@mlforge/test-support";

export { literal, query };

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

/** A generated label row as the tests see it. */
export interface Label {
  userId: string;
  eventTime: Date;
  churned: boolean;
}

/** Reads a generated labels file into JavaScript, in file order. */
export async function readLabels(file: string): Promise<Label[]> {
  const rows = await query(`SELECT * FROM read_parquet(${literal(file)})`);
  return rows.map((row) => ({ userId: String(row.user_id), eventTime: row.event_time as Date, churned: row.churned as boolean }));
}

/** A transaction's user and time, grouped by user, each group in time order. */
export function transactionsByUser(transactions: readonly Transaction[]): Map<string, Transaction[]> {
  const groups = new Map<string, Transaction[]>();
  for (const transaction of transactions) {
    const group = groups.get(transaction.userId);
    if (group === undefined) groups.set(transaction.userId, [transaction]);
    else group.push(transaction);
  }
  for (const group of groups.values()) group.sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime());
  return groups;
}

/** Runs one of the app's scripts with tsx, as `npm run <script>` does. */
export function runScript(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", script, ...args],
      { cwd: path.join(__dirname, ".."), env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}
