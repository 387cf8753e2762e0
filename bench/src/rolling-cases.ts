// Benchmark cases for rolling windows and checks: `--only rolling`, `--only checks`.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { atLeast, between, Definitions, feature, isFeature, lessThan, matches, notNull, unique, type Feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

/** What every case receives (see cases.ts). */
export interface Options {
  data: string;
  out: string;
}

const DAY_US = 86_400_000_000;

/**
 * The best hand-written DuckDB SQL we know for user_id windows of 7 and 30 days at a 1-day
 * interval, written for this data alone (event times after 1970, so `//` is a floor): one row per
 * user and day, framed by RANGE over the day number with the rows wanted (a day after each
 * purchase day, and a day after it leaves each window) added in. `countDistinct` adds the distinct
 * products of the example's feature.
 */
export function handWrittenRolling(relation: string, countDistinct = false): string {
  const windows = "WINDOW w7 AS (PARTITION BY user_id ORDER BY d RANGE BETWEEN 7 PRECEDING AND 1 PRECEDING), w30 AS (PARTITION BY user_id ORDER BY d RANGE BETWEEN 30 PRECEDING AND 1 PRECEDING)";
  return `
    WITH e AS (SELECT user_id, epoch_us(event_time) // ${DAY_US} AS d, amount, product_id FROM ${relation}),
    b AS (SELECT user_id, d, sum(amount) AS s, count(amount) AS n, max(amount) AS m FROM e GROUP BY user_id, d),
    p AS (SELECT DISTINCT user_id, d + unnest([1, 8, 31]) AS d FROM b),
    r AS (
      SELECT user_id, d, sum(s) OVER w7 AS s7, sum(s) OVER w30 AS s30, sum(n) OVER w7 AS n7, sum(n) OVER w30 AS n30, max(m) OVER w7 AS m7, max(m) OVER w30 AS m30
      FROM (SELECT *, false AS probe FROM b UNION ALL BY NAME SELECT *, true AS probe FROM p)
      ${windows} QUALIFY probe
    )${countDistinct ? `,
    c AS (
      SELECT user_id, d, count(DISTINCT product_id) OVER w7 AS c7, count(DISTINCT product_id) OVER w30 AS c30
      FROM (SELECT DISTINCT user_id, d, product_id, false AS probe FROM e WHERE product_id IS NOT NULL UNION ALL BY NAME SELECT *, true AS probe FROM p)
      ${windows} QUALIFY probe
    )` : ""}
    SELECT r.user_id, make_timestamp(r.d * ${DAY_US}) AS as_of,
      s7 AS amount_sum_7d, s30 AS amount_sum_30d,
      coalesce(n7, 0)::BIGINT AS amount_count_7d, coalesce(n30, 0)::BIGINT AS amount_count_30d,
      CASE WHEN n7 > 0 THEN s7::DOUBLE / n7 END AS amount_mean_7d, CASE WHEN n30 > 0 THEN s30::DOUBLE / n30 END AS amount_mean_30d,
      m7 AS amount_max_7d, m30 AS amount_max_30d${countDistinct ? ", coalesce(c7, 0)::BIGINT AS product_id_count_distinct_7d, coalesce(c30, 0)::BIGINT AS product_id_count_distinct_30d" : ""}
    FROM r${countDistinct ? " JOIN c ON r.user_id = c.user_id AND r.d = c.d" : ""}`;
}

/** The rolling feature of the bench: 7d and 30d windows, 1d interval, 4 aggregations of amount. */
function rollingFeature(data: string): Feature {
  return feature(
    {
      name: "user_spend_rolling",
      keys: ["user_id"],
      source: data,
      timestamp: "event_time",
      rolling: { interval: "1d", windows: ["7d", "30d"], aggregations: { amount: ["sum", "count", "mean", "max"] } },
    },
    (transactions) => `SELECT user_id, event_time, amount FROM ${transactions}`,
  );
}

async function withDuckDB(body: (run: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<void>): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    await body(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Raw DuckDB: the hand-written SQL, `COPY … TO … (FORMAT parquet)`. */
async function rollingRaw({ data, out }: Options): Promise<void> {
  await mkdir(out, { recursive: true });
  await withDuckDB(async (run) => {
    await run(`COPY (${handWrittenRolling(`read_parquet('${data}')`)}) TO '${path.join(out, "rolling.parquet")}' (FORMAT parquet)`);
  });
}

/** mlforge: `build({ force: true })` of the rolling feature into a LocalStore. */
async function rollingMlforge({ data, out }: Options): Promise<void> {
  await new Definitions({ name: "bench", features: [rollingFeature(data)], offlineStore: new LocalStore(out) }).build({ force: true });
}

/** Both, then a proof that they wrote the same rows (multiset difference both ways is empty). */
async function rollingSameRows({ data, out }: Options): Promise<void> {
  await rollingRaw({ data, out: path.join(out, "raw") });
  await rollingMlforge({ data, out: path.join(out, "mlforge") });
  await withDuckDB(async (run) => {
    const raw = `read_parquet('${path.join(out, "raw", "rolling.parquet")}')`;
    const ours = `read_parquet('${path.join(out, "mlforge", "user_spend_rolling.parquet")}')`;
    const [counts] = await run(
      `SELECT (SELECT count(*) FROM ${raw})::BIGINT AS rows, (SELECT count(*) FROM (SELECT * FROM ${raw} EXCEPT ALL SELECT * FROM ${ours}))::BIGINT AS missing, (SELECT count(*) FROM (SELECT * FROM ${ours} EXCEPT ALL SELECT * FROM ${raw}))::BIGINT AS extra`,
    );
    if (Number(counts!.missing) !== 0 || Number(counts!.extra) !== 0) throw new Error(`rolling rows differ from the hand-written SQL's: ${JSON.stringify(counts, (_, value) => (typeof value === "bigint" ? Number(value) : value))}`);
    process.stderr.write(`rolling: ${Number(counts!.rows).toLocaleString("en-US")} rows, identical to the hand-written SQL's\n`);
  });
}

/** One feature over every transaction column; `checked` puts checks on every column. */
function transactionsFeature(data: string, checked: boolean): Feature {
  return feature(
    {
      name: "transactions_checked",
      keys: ["transaction_id"],
      source: data,
      ...(checked
        ? {
            checks: {
              transaction_id: [notNull(), unique(), atLeast(1)],
              user_id: [notNull(), matches("^user_")],
              product_id: [notNull(), matches("^prod_")],
              amount: [notNull(), atLeast(0), lessThan(1_000_000)],
              event_time: [notNull(), between(new Date("2000-01-01T00:00:00Z"), new Date("2100-01-01T00:00:00Z"))],
            },
          }
        : {}),
    },
    (transactions) => `SELECT * FROM ${transactions}`,
  );
}

async function buildTransactions(data: string, out: string, checked: boolean): Promise<void> {
  const result = await new Definitions({ name: "bench", features: [transactionsFeature(data, checked)], offlineStore: new LocalStore(out) }).build({ force: true });
  if (checked && result.built[0]?.checks?.some((check) => !check.passed)) throw new Error(`a check failed: ${JSON.stringify(result.built[0]?.checks)}`);
}

/** The rolling and checks cases, by name, for cases.ts. */
export const rollingCases = {
  "rolling-raw": rollingRaw,
  "rolling-mlforge": rollingMlforge,
  "rolling-same-rows": rollingSameRows,
  "checks-without": ({ data, out }: Options) => buildTransactions(data, out, false),
  "checks-with": ({ data, out }: Options) => buildTransactions(data, out, true),
};

/** For the example's build comparison: the raw side's SQL of a feature, hand-written windows for a rolling one. */
export async function rawSql(value: Feature, relation: string): Promise<string> {
  return isFeature(value) && value.rolling !== undefined ? handWrittenRolling(relation, true) : value.transform(relation);
}
