// The second data shape: few keys, skewed, each with many time-stamped rows (account balance
// updates), where the join plans behave the opposite way to the daily per-user feature.
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { Definitions, estimatedRankPairs, feature, type Feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

/** What every case receives (see cases.ts). */
export interface Options {
  /** The skewed events Parquet file. */
  data: string;
  out: string;
  /** A LocalStore holding `account_balance` built from `data` (training cases). */
  store?: string;
  /** A Parquet file of entity rows: account_id, event_time (training cases). */
  entities?: string;
}

/** Distinct accounts. */
export const SKEWED_KEYS = 1_000;
/** The events span one year from this day (UTC). */
const FIRST_DAY = "2024-07-01";
const YEAR_US = 365n * 86_400_000_000n;

/**
 * The account of draw `draw` in [0, 1): log-uniform over SKEWED_KEYS accounts, so account k is
 * drawn with probability about 1 / (k + 1.5) / ln(SKEWED_KEYS + 1): account 0 gets 10% of the rows,
 * the top 10 about a third, the last few hundred a handful each.
 */
const accountSql = (draw: string) => `'acct_' || lpad((floor(exp(${draw} * ln(${SKEWED_KEYS + 1}))) - 1)::BIGINT::VARCHAR, 4, '0')`;

/** A draw in [0, 1) from hash(i, purpose). */
const uniformSql = (i: string, purpose: string) => `((hash(${i}, '${purpose}') >> 11)::DOUBLE / 9007199254740992)`;

async function withDuckDB<T>(body: (run: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    return await body(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Writes `rows` deterministic balance updates (account_id, updated_at, balance, open_orders) over
 * one year. Times are i × 1,000,000,007 µs modulo the year, so no two rows share one (the prime is
 * coprime with the year's microseconds) and every account's rows spread over the whole year.
 */
export async function writeSkewedEvents(rows: number, file: string): Promise<void> {
  if (await stat(file).catch(() => undefined)) return;
  await mkdir(path.dirname(file), { recursive: true });
  await withDuckDB((run) =>
    run(`COPY (
      SELECT ${accountSql(uniformSql("i", "account"))} AS account_id,
             TIMESTAMP '${FIRST_DAY}' + to_microseconds(((i * 1000000007) % ${YEAR_US})::BIGINT) AS updated_at,
             round(${uniformSql("i", "balance")} * 10000, 2)::DECIMAL(12, 2) AS balance,
             (hash(i, 'orders') % 20)::INTEGER AS open_orders
      FROM range(${rows}) AS t(i)
    ) TO '${file}' (FORMAT parquet)`),
  );
}

/** Writes `count` entity rows (account_id, event_time): accounts drawn as the events' are, times uniform over the year. */
export async function writeSkewedEntities(count: number, file: string): Promise<void> {
  if (await stat(file).catch(() => undefined)) return;
  await withDuckDB((run) =>
    run(`COPY (
      SELECT ${accountSql(uniformSql("i", "entity account"))} AS account_id,
             TIMESTAMP '${FIRST_DAY}' + to_microseconds((hash(i, 'entity time') % ${YEAR_US})::BIGINT) AS event_time
      FROM range(${count}) AS t(i)
    ) TO '${file}' (FORMAT parquet)`),
  );
}

/** The skewed shape's feature: every balance update, as of its time (a time-stamped feature that is not rolling). */
function accountBalance(data: string): Feature {
  return feature({ name: "account_balance", keys: ["account_id"], timestamp: "updated_at", source: data }, (events) => `SELECT account_id, updated_at, balance, open_orders FROM ${events}`);
}

/** Raw DuckDB: the same SQL over the same view, `COPY … TO … (FORMAT parquet)`. */
async function buildRaw({ data, out }: Options): Promise<void> {
  await mkdir(out, { recursive: true });
  const definition = accountBalance(data);
  await withDuckDB(async (run) => {
    await run(`CREATE OR REPLACE TEMP VIEW account_balance_source AS SELECT * FROM read_parquet('${data}')`);
    await run(`COPY (${await definition.transform("account_balance_source")}) TO '${path.join(out, "account_balance.parquet")}' (FORMAT parquet)`);
  });
}

/** mlforge: `build({ force: true })` of the same feature into a LocalStore. */
async function buildMlforge({ data, out }: Options): Promise<void> {
  await new Definitions({ name: "bench", features: [accountBalance(data)], offlineStore: new LocalStore(out) }).build({ force: true });
}

/** Runs one raw training query in a fresh DuckDB and writes it to out/train.parquet. */
async function rawTraining({ store, entities, out }: Options, body: (file: string) => string): Promise<void> {
  await mkdir(out, { recursive: true });
  await withDuckDB((run) =>
    run(
      `COPY (WITH e AS (SELECT *, row_number() OVER () AS rn FROM read_parquet('${entities}')) ${body(`read_parquet('${path.join(store!, "account_balance.parquet")}')`)}) ` +
        `TO '${path.join(out, "train.parquet")}' (FORMAT parquet)`,
    ),
  );
}

/** Raw plan 1: ASOF LEFT JOIN. */
function trainingAsof(options: Options): Promise<void> {
  return rawTraining(options, (file) => `
    SELECT e.account_id, e.event_time, b.balance, b.open_orders
    FROM e ASOF LEFT JOIN ${file} b ON e.account_id = b.account_id AND e.event_time >= b.updated_at
    ORDER BY e.rn`);
}

/** Raw plan 2: join every earlier row, keep the latest per entity row with row_number(). */
function trainingRank(options: Options): Promise<void> {
  return rawTraining(options, (file) => `
    , latest AS (
      SELECT e.rn, b.balance, b.open_orders
      FROM e JOIN ${file} b ON e.account_id = b.account_id AND b.updated_at <= e.event_time
      QUALIFY row_number() OVER (PARTITION BY e.rn ORDER BY b.updated_at DESC) = 1
    )
    SELECT e.account_id, e.event_time, latest.balance, latest.open_orders
    FROM e LEFT JOIN latest ON e.rn = latest.rn
    ORDER BY e.rn`);
}

/** mlforge: `getTrainingData(...).writeParquet(...)`. */
async function trainingMlforge({ data, store, entities, out }: Options): Promise<void> {
  const defs = new Definitions({ name: "bench", features: [accountBalance(data)], offlineStore: new LocalStore(store!) });
  const frame = await defs.getTrainingData({ features: ["account_balance"], entities: entities!, timestamp: "event_time" });
  try {
    await frame.writeParquet(path.join(out, "train.parquet"));
  } finally {
    await frame.close();
  }
}

/** Builds the feature into `store` (setup). */
async function prepareStore({ data, store }: Options): Promise<void> {
  const defs = new Definitions({ name: "bench", features: [accountBalance(data)], offlineStore: new LocalStore(store!) });
  await defs.build();
  // A store built by a version that recorded no keyStats would get the older plan rule: rebuild it once.
  if ((await defs.list())[0]?.metadata?.keyStats === undefined) await defs.build({ force: true });
}

/**
 * The plan `"auto"` picked for one time-stamped feature over these entity rows (from the manifest of
 * a training frame, not timed) and the rank plan's pairs it estimated from the same facts.
 */
export async function planOf(defs: Definitions, features: string[], timed: string, entities: string): Promise<{ plan: string; pairs?: number }> {
  const frame = await defs.getTrainingData({ features, entities, timestamp: "event_time" });
  const plan = frame.manifest?.features.find((item) => item.name === timed)?.plan ?? "unknown";
  await frame.close();
  const metadata = (await defs.list()).find((listing) => listing.feature.name === timed)?.metadata;
  const [counted] = await withDuckDB((run) => run(`SELECT count(*)::BIGINT AS n, epoch_ms(min(event_time)) AS first, epoch_ms(max(event_time)) AS last FROM read_parquet('${entities}')`));
  const pairs = estimatedRankPairs({ entityRows: Number(counted?.n), featureRows: metadata?.rows ?? 0, keyStats: metadata?.keyStats, entityTimes: { first: Number(counted?.first), last: Number(counted?.last) } });
  return { plan, ...(pairs === undefined ? {} : { pairs }) };
}

/** The skewed shape's cases, by name, for cases.ts. */
export const skewedCases = {
  "build-skewed-raw": buildRaw,
  "build-skewed-mlforge": buildMlforge,
  "training-skewed-asof": trainingAsof,
  "training-skewed-rank": trainingRank,
  "training-skewed-mlforge": trainingMlforge,
  "prepare-skewed-store": prepareStore,
  "training-skewed-plan": ({ data, store, entities }: Options) =>
    planOf(new Definitions({ name: "bench", features: [accountBalance(data)], offlineStore: new LocalStore(store!) }), ["account_balance"], "account_balance", entities!),
};
