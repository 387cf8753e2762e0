import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateLabels } from "../src/generate-labels";
import { generateTransactions } from "../src/generate-transactions";
import { literal, query, readLabels, readTransactions, runScript, transactionsByUser, type Label, type Transaction } from "./helpers";

const DAY_MS = 86_400_000;
let workdir: string;
let source: string;
let transactions: Transaction[];

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), "mlforge-example-labels-"));
  source = path.join(workdir, "transactions.parquet");
  await generateTransactions({ rows: 20_000, seed: 11, out: source });
  transactions = await readTransactions(source);
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

const key = (label: Label) => `${label.userId} ${label.eventTime.toISOString()} ${label.churned}`;

describe("generateLabels", () => {
  let labels: Label[];
  let file: string;
  let positives: number;

  beforeAll(async () => {
    file = path.join(workdir, "nested", "labels.parquet");
    const written = await generateLabels({ rows: 2_000, transactions: source, out: file, seed: 3 });
    expect(written).toMatchObject({ path: file, rows: 2_000 });
    expect(written.bytes).toBeGreaterThan(0);
    positives = written.positives;
    labels = await readLabels(file);
  });

  test("writes user_id, event_time and the churned label", async () => {
    const columns = await query(`DESCRIBE SELECT * FROM read_parquet(${literal(file)})`);
    expect(columns.map((column) => [column.column_name, column.column_type])).toEqual([
      ["user_id", "VARCHAR"],
      ["event_time", "TIMESTAMP"],
      ["churned", "BOOLEAN"],
    ]);
    expect(labels).toHaveLength(2_000);
  });

  test("draws known users at times from a week after the first purchase to a week before the last, in time order", () => {
    const users = new Set(transactions.map((row) => row.userId));
    const times = transactions.map((row) => row.eventTime.getTime());
    const first = Math.min(...times);
    const last = Math.max(...times);
    const outside = labels.filter(
      (label) => !users.has(label.userId) || label.eventTime.getTime() < first - (first % 1000) + 7 * DAY_MS || label.eventTime.getTime() > last - 7 * DAY_MS,
    );
    expect(outside).toEqual([]);
    expect(labels.filter((label, index) => index > 0 && label.eventTime < labels[index - 1]!.eventTime)).toEqual([]);
    expect(new Set(labels.map((label) => label.userId)).size).toBeGreaterThan(1_000);
    expect(new Set(labels.map((label) => label.eventTime.toISOString().slice(0, 10))).size).toBeGreaterThan(60);
  });

  test("labels a row churned exactly when the user buys nothing in the 7 days after event_time", () => {
    const byUser = transactionsByUser(transactions);
    const expected = labels.map((label) => {
      const start = label.eventTime.getTime();
      const bought = (byUser.get(label.userId) ?? []).some((row) => row.eventTime.getTime() > start && row.eventTime.getTime() <= start + 7 * DAY_MS);
      return { ...label, churned: !bought };
    });
    expect(labels).toEqual(expected);
    // Both classes occur, and the count reported is the file's.
    expect(positives).toBe(labels.filter((label) => label.churned).length);
    expect(positives).toBeGreaterThan(100);
    expect(positives).toBeLessThan(1_900);
  });

  test("gives the same rows for the same options and other rows for another seed", async () => {
    const again = path.join(workdir, "again.parquet");
    await generateLabels({ rows: 2_000, transactions: source, out: again, seed: 3 });
    expect(await readLabels(again)).toEqual(labels);

    const reseeded = path.join(workdir, "reseeded.parquet");
    await generateLabels({ rows: 2_000, transactions: source, out: reseeded, seed: 4 });
    const original = new Set(labels.map(key));
    const other = await readLabels(reseeded);
    expect(other).toHaveLength(2_000);
    expect(other.filter((label) => original.has(key(label))).length).toBeLessThan(20);
  });

  test("rejects a bad row count, missing transactions and too short a history", async () => {
    const out = path.join(workdir, "none.parquet");
    await expect(generateLabels({ rows: 0, transactions: source, out })).rejects.toThrow("Option 'rows' must be an integer of at least 1, got 0.");
    await expect(generateLabels({ transactions: path.join(workdir, "missing.parquet"), out })).rejects.toThrow(
      "Transactions file '" + path.join(workdir, "missing.parquet") + "' does not exist",
    );
    const short = path.join(workdir, "short.parquet");
    await query(`COPY (SELECT 'user_1' AS user_id, TIMESTAMP '2025-01-01' + to_days(i::INTEGER) AS event_time FROM range(14) AS t(i)) TO ${literal(short)} (FORMAT parquet)`);
    await expect(generateLabels({ transactions: short, out })).rejects.toThrow("spans too little time for labels: they need more than 14 days");
  });
});

describe("npm run labels", () => {
  test("honours --rows, --seed, --transactions and --out and reports the label rate", async () => {
    const file = path.join(workdir, "cli", "labels.parquet");
    const { code, stdout, stderr } = await runScript("src/labels.ts", ["--rows", "300", "--seed", "5", "--transactions", source, "--out", file]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const written = await readLabels(file);
    const churned = written.filter((label) => label.churned).length;
    expect(stdout).toMatch(
      new RegExp(`^Wrote 300 labels to .*labels\\.parquet \\(\\d+(\\.\\d)? (KiB|B)\\) in \\d.*; churned is true for ${churned} \\(${((churned / 300) * 100).toFixed(1)}%\\)\\.\\n$`),
    );
    const reference = path.join(workdir, "reference.parquet");
    await generateLabels({ rows: 300, seed: 5, transactions: source, out: reference });
    expect(written).toEqual(await readLabels(reference));
  });

  test("exits with 2 and the usage on a bad argument", async () => {
    const { code, stdout, stderr } = await runScript("src/labels.ts", ["--rows", "many"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("--rows must be an integer, got 'many'.");
    expect(stderr).toContain("Usage: npm run labels");
  });
});
