import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Definitions } from "@mlforge/core";
import { generateLabels } from "../src/generate-labels";
import { generateTransactions } from "../src/generate-transactions";
import { literal, query, readLabels, readTransactions, runScript, transactionsByUser, type Label, type Transaction } from "./helpers";

const DAY_MS = 86_400_000;
const FEATURES = ["user_total_spend", "user_avg_spend", "user_spend"];
const ROLLING_COLUMNS = ["amount_sum_7d", "amount_sum_30d", "amount_count_7d", "amount_count_30d", "amount_mean_7d", "amount_mean_30d", "amount_max_7d", "amount_max_30d", "product_id_count_distinct_7d", "product_id_count_distinct_30d"];
const environmentNames = ["MLFORGE_EXAMPLE_DATA", "FEATURE_STORE", "ENVIRONMENT"] as const;
const savedEnvironment = Object.fromEntries(environmentNames.map((name) => [name, process.env[name]]));

let workdir: string;
let source: string;
let storeDir: string;
let labelsFile: string;
let defs: Definitions;
let transactions: Transaction[];
let labels: Label[];

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), "mlforge-example-training-"));
  source = path.join(workdir, "transactions.parquet");
  storeDir = path.join(workdir, "feature_store");
  labelsFile = path.join(workdir, "labels.parquet");
  await generateTransactions({ rows: 20_000, seed: 11, out: source });
  await generateLabels({ rows: 3_000, seed: 5, transactions: source, out: labelsFile });
  transactions = await readTransactions(source);
  labels = await readLabels(labelsFile);

  // The features and the store read these when definitions.ts is first imported.
  process.env.MLFORGE_EXAMPLE_DATA = source;
  process.env.FEATURE_STORE = storeDir;
  process.env.ENVIRONMENT = "local";
  ({ defs } = await import("../src/definitions"));
  await defs.build({ features: FEATURES });
});

afterAll(async () => {
  for (const name of environmentNames) {
    if (savedEnvironment[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnvironment[name];
  }
  await rm(workdir, { recursive: true, force: true });
});

const cents = (value: unknown) => (value === null ? null : Math.round(Number(value) * 100));
const dayNumber = (date: Date) => Math.floor(date.getTime() / DAY_MS);

/**
 * user_spend's 7-day window as of `time`, brute force from the transactions: the purchases with
 * midnight(time) - 7 days <= event_time < midnight(time). Null when the user bought nothing before
 * that midnight (the feature has no row yet).
 */
function spend7dAsOf(rows: readonly Transaction[], time: Date): { spendCents: number; count: number } | null {
  const boundary = Math.floor(time.getTime() / DAY_MS) * DAY_MS;
  if (!rows.some((row) => row.eventTime.getTime() < boundary)) return null;
  const window = rows.filter((row) => row.eventTime.getTime() < boundary && row.eventTime.getTime() >= boundary - 7 * DAY_MS);
  return { spendCents: window.reduce((sum, row) => sum + row.cents, 0), count: window.length };
}

describe("training data from the labels", () => {
  let rows: Record<string, unknown>[];
  let columns: readonly string[];

  beforeAll(async () => {
    const frame = await defs.getTrainingData({ features: FEATURES, entities: labelsFile, timestamp: "event_time" });
    try {
      columns = frame.columns;
      rows = await frame.rows();
    } finally {
      await frame.close();
    }
  });

  test("has one row per label row, in the labels' order, the label columns first", () => {
    expect(columns).toEqual(["user_id", "event_time", "churned", "total_spend", "transaction_count", "avg_spend", ...ROLLING_COLUMNS]);
    expect(rows.map((row) => ({ userId: row.user_id, eventTime: row.event_time, churned: row.churned }))).toEqual(labels);
  });

  test("user_spend's 7-day window is the one that closed at the last midnight at or before each row's event_time", () => {
    const byUser = transactionsByUser(transactions);
    const expected = labels.map((label) => spend7dAsOf(byUser.get(label.userId) ?? [], label.eventTime));
    const actual = rows.map((row) => (row.amount_count_7d === null ? null : { spendCents: cents(row.amount_sum_7d) ?? 0, count: Number(row.amount_count_7d) }));
    expect(actual).toEqual(expected);

    // The data exercises the join: rows before any purchase get nulls, and some users bought
    // earlier on the day of their label, which the value must not include yet.
    expect(expected.filter((value) => value === null).length).toBeGreaterThan(0);
    const sameDayEarlier = labels.filter((label) =>
      (byUser.get(label.userId) ?? []).some((row) => dayNumber(row.eventTime) === dayNumber(label.eventTime) && row.eventTime < label.eventTime),
    );
    expect(sameDayEarlier.length).toBeGreaterThan(10);
  });

  test("user_total_spend and user_avg_spend are lifetime values, purchases after event_time included", () => {
    const byUser = transactionsByUser(transactions);
    const wrong = rows.filter((row, index) => {
      const all = byUser.get(labels[index]!.userId) ?? [];
      const total = all.reduce((sum, item) => sum + item.cents, 0);
      return cents(row.total_spend) !== total || Number(row.transaction_count) !== all.length || Math.abs(Number(row.avg_spend) - total / all.length / 100) > 1e-9;
    });
    expect(wrong).toEqual([]);
    // Which is why they leak: for most rows the user still buys after event_time.
    const later = labels.filter((label) => (byUser.get(label.userId) ?? []).some((row) => row.eventTime > label.eventTime));
    expect(later.length).toBeGreaterThan(labels.length / 2);
  });
});

describe("npm run train", () => {
  test("generates missing labels, skips the built features and writes the training set", async () => {
    const trainLabels = path.join(workdir, "train-labels.parquet");
    const out = path.join(workdir, "out", "train.parquet");
    const { code, stdout, stderr } = await runScript("src/train.ts", ["--labels", trainLabels, "--out", out], {
      MLFORGE_EXAMPLE_DATA: source,
      FEATURE_STORE: storeDir,
      ENVIRONMENT: "local",
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`${trainLabels} is missing; generating it from ${source}.`);
    expect(stdout).toMatch(/^Features: none built; 3 unchanged \(skipped\) in /m);

    const [written] = await query(`SELECT count(*)::INTEGER AS n, avg(churned::INTEGER) AS rate FROM read_parquet(${literal(out)})`);
    const [expected] = await query(`SELECT count(*)::INTEGER AS n, avg(churned::INTEGER) AS rate FROM read_parquet(${literal(trainLabels)})`);
    expect(written).toEqual(expected);
    expect(written!.n).toBe(50_000);
    expect(stdout).toMatch(/^ {2}rows +50,000 \(one per label row of /m);
    expect(stdout).toContain(`  columns  16: user_id, event_time, churned, total_spend, transaction_count, avg_spend, ${ROLLING_COLUMNS.join(", ")}\n`);
    expect(stdout).toContain(`  label    churned is true for ${(Number(written!.rate) * 100).toFixed(1)}% of rows\n`);
    // The sample: a header, a rule and five rows.
    const sample = stdout.slice(stdout.indexOf("First 5 rows:")).trim().split("\n").slice(1).filter((line) => line.trim() !== "");
    expect(sample).toHaveLength(7);
    expect(sample[0]).toMatch(/^user_id +event_time +churned +total_spend/);
  });
});
