import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BuildResult, Definitions } from "@mlforge/core";
import { generateTransactions } from "../src/generate-transactions";
import { literal, query, readTransactions, type Transaction } from "./helpers";

const DAY_MS = 86_400_000;
const environmentNames = ["MLFORGE_EXAMPLE_DATA", "FEATURE_STORE", "ENVIRONMENT"] as const;
const savedEnvironment = Object.fromEntries(environmentNames.map((name) => [name, process.env[name]]));

let workdir: string;
let storeDir: string;
let defs: Definitions;
let result: BuildResult;
let transactions: Transaction[];

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), "mlforge-example-features-"));
  const source = path.join(workdir, "transactions.parquet");
  storeDir = path.join(workdir, "feature_store");
  await generateTransactions({ rows: 20_000, seed: 11, out: source });
  transactions = await readTransactions(source);

  // The features and the store read these when definitions.ts is first imported.
  process.env.MLFORGE_EXAMPLE_DATA = source;
  process.env.FEATURE_STORE = storeDir;
  process.env.ENVIRONMENT = "local";
  ({ defs } = await import("../src/definitions"));
  result = await defs.build();
});

afterAll(async () => {
  for (const name of environmentNames) {
    if (savedEnvironment[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnvironment[name];
  }
  await rm(workdir, { recursive: true, force: true });
});

/** The rows of a built feature, read back from its Parquet file in the store. */
async function builtRows(name: string): Promise<Record<string, unknown>[]> {
  return query(`SELECT * FROM read_parquet(${literal(path.join(storeDir, `${name}.parquet`))})`);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group === undefined) groups.set(key(item), [item]);
    else group.push(item);
  }
  return groups;
}

const cents = (value: unknown) => (value === null ? null : Math.round(Number(value) * 100));
const sumCents = (items: readonly Transaction[]) => items.reduce((sum, item) => sum + item.cents, 0);
const dayNumber = (date: Date) => Math.floor(date.getTime() / DAY_MS);

test("builds every feature into the LocalStore named by FEATURE_STORE", () => {
  expect(result.failed).toEqual([]);
  expect(result.built.map((entry) => entry.name).sort()).toEqual(["product_popularity", "user_avg_spend", "user_spend", "user_total_spend"]);
  for (const entry of result.built) {
    expect(entry.uri).toBe(path.join(storeDir, `${entry.name}.parquet`));
    expect(entry.bytes).toBeGreaterThan(0);
  }
  for (const item of defs.features) {
    expect(item.source).toBe(path.join(workdir, "transactions.parquet"));
    expect(item.description).toEqual(expect.any(String));
    expect(item.tags.length).toBeGreaterThan(0);
  }
});

test("user_total_spend holds each user's total in cents and transaction count", async () => {
  const expected = [...groupBy(transactions, (row) => row.userId)].map(([userId, rows]) => ({
    user_id: userId,
    total_cents: sumCents(rows),
    transaction_count: rows.length,
  }));
  const actual = (await builtRows("user_total_spend")).map((row) => ({
    user_id: row.user_id,
    total_cents: cents(row.total_spend),
    transaction_count: Number(row.transaction_count),
  }));
  const byUser = (a: { user_id: unknown }, b: { user_id: unknown }) => String(a.user_id).localeCompare(String(b.user_id));
  expect(actual.sort(byUser)).toEqual(expected.sort(byUser));
  expect(result.built.find((entry) => entry.name === "user_total_spend")?.rows).toBe(expected.length);
});

test("user_avg_spend holds each user's average amount", async () => {
  const expected = new Map([...groupBy(transactions, (row) => row.userId)].map(([userId, rows]) => [userId, sumCents(rows) / rows.length / 100]));
  const actual = await builtRows("user_avg_spend");
  expect(actual).toHaveLength(expected.size);
  const wrong = actual.filter((row) => {
    const want = expected.get(String(row.user_id));
    return want === undefined || Math.abs(Number(row.avg_spend) - want) > 1e-9 * Math.abs(want);
  });
  expect(wrong).toEqual([]);
});

test("product_popularity holds each product's purchase count and distinct buyers", async () => {
  const expected = new Map(
    [...groupBy(transactions, (row) => row.productId)].map(([productId, rows]) => [
      productId,
      { purchase_count: rows.length, unique_buyers: new Set(rows.map((row) => row.userId)).size },
    ]),
  );
  const actual = new Map(
    (await builtRows("product_popularity")).map((row) => [
      String(row.product_id),
      { purchase_count: Number(row.purchase_count), unique_buyers: Number(row.unique_buyers) },
    ]),
  );
  expect(actual).toEqual(expected);
  // Popular products sell to repeat buyers, so the two columns differ somewhere.
  expect([...expected.values()].some((value) => value.unique_buyers < value.purchase_count)).toBe(true);
});

test("user_spend has a row per user at each midnight where a purchase enters or leaves a window, equal to the windows computed by brute force", async () => {
  const expected = new Map<string, Record<string, unknown>>();
  for (const [userId, rows] of groupBy(transactions, (row) => row.userId)) {
    const days = new Set(rows.flatMap((row) => [1, 8, 31].map((offset) => dayNumber(row.eventTime) + offset)));
    for (const day of days) {
      const window = (length: number) => rows.filter((row) => dayNumber(row.eventTime) < day && dayNumber(row.eventTime) >= day - length);
      const [week, month] = [window(7), window(30)];
      expected.set(`${userId} ${day}`, {
        spend_cents_7d: week.length === 0 ? null : sumCents(week),
        spend_cents_30d: month.length === 0 ? null : sumCents(month),
        count_7d: week.length,
        count_30d: month.length,
        products_30d: new Set(month.map((row) => row.productId)).size,
      });
    }
  }
  const built = await builtRows("user_spend");
  const actual = new Map(
    built.map((row) => [
      `${String(row.user_id)} ${dayNumber(row.as_of as Date)}`,
      {
        spend_cents_7d: cents(row.amount_sum_7d),
        spend_cents_30d: cents(row.amount_sum_30d),
        count_7d: Number(row.amount_count_7d),
        count_30d: Number(row.amount_count_30d),
        products_30d: Number(row.product_id_count_distinct_30d),
      },
    ]),
  );
  expect(actual.size).toBe(built.length);
  expect(built.every((row) => (row.as_of as Date).getTime() % DAY_MS === 0)).toBe(true);
  expect(actual).toEqual(expected);
  // The data exercises the windows: some rows have an empty week but a non-empty month.
  expect([...expected.values()].some((value) => value.count_7d === 0 && (value.count_30d as number) > 0)).toBe(true);

  const metadata = await defs.metadata("user_spend");
  expect(metadata).toMatchObject({ keys: ["user_id"], timestamp: "as_of", rows: expected.size });
  // The warn check fires on the generated data and is recorded; the feature is built anyway.
  expect(metadata?.checks?.find((check) => check.column === "amount_max_30d")).toMatchObject({ severity: "warn", passed: false });
});
