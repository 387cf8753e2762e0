import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  Definitions,
  feature,
  FeatureNotBuiltError,
  FeatureNotFoundError,
  MlforgeError,
  TrainingDataError,
  type TrainingDataOptions,
} from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
// FeatureFrame is exported as a type: users receive frames, never construct them.
import { FeatureFrame } from "../src/feature-frame";
import { choosePlan, estimatedRankPairs, RANK_PLAN_MAX_PAIRS_PER_ROW, RANK_PLAN_MIN_FEATURE_ROWS_PER_ENTITY_ROW, shareAtOrBefore } from "../src/point-in-time";

let directory: string;
let scratch: string;
let defs: Definitions;

const utc = (iso: string) => new Date(`${iso}Z`);

/** Runs statements in a throwaway DuckDB (used to write test inputs). */
async function duckdb(sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(sql);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The rows of a training set, closing the frame afterwards. */
/** The join plan the semantics tests run with; every plan must give the same rows. */
let plan: TrainingDataOptions["plan"];

async function training(options: TrainingDataOptions): Promise<{ columns: readonly string[]; numRows: number; rows: Record<string, unknown>[] }> {
  const frame = await defs.getTrainingData({ plan, ...options });
  try {
    return { columns: frame.columns, numRows: frame.numRows, rows: await frame.rows() };
  } finally {
    await frame.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    (value) => {
      if (value instanceof FeatureFrame) void value.close();
      return undefined;
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-pit-test-"));
  scratch = path.join(directory, "scratch");
  const transactions = path.join(directory, "transactions.csv");
  await writeFile(
    transactions,
    ["user_id,event_time,amount", "1,2024-01-01 10:00:00,10", "1,2024-01-03 09:00:00,25", "2,2024-01-02 12:00:00,7"].join("\n"),
  );
  const balances = path.join(directory, "balances.csv");
  await writeFile(
    balances,
    ["user_id,updated_at,balance", "1,2024-01-01 00:00:00,100", "1,2024-01-05 00:00:00,150", "2,2024-01-03 00:00:00,200"].join("\n"),
  );
  // Visit times are TIMESTAMPTZ, balances' TIMESTAMP: both are compared with entity times in UTC.
  const visits = path.join(directory, "visits.parquet");
  await duckdb(`COPY (SELECT * FROM (VALUES
      (1, 'A', TIMESTAMPTZ '2024-01-01 00:00:00+00', 1),
      (1, 'B', TIMESTAMPTZ '2024-01-02 00:00:00+00', 2),
      (1, 'A', TIMESTAMPTZ '2024-01-04 00:00:00+00', 3),
      (2, 'A', TIMESTAMPTZ '2024-01-01 00:00:00+00', 4)
    ) AS t(user_id, store_id, visited_at, visits)) TO '${visits}' (FORMAT parquet)`);

  defs = new Definitions({
    name: "pit-test",
    offlineStore: new LocalStore(path.join(directory, "store")),
    // Temporary entity files go here, so the tests can see that they are cleaned up.
    engine: { tempDirectory: scratch, threads: 2 },
    features: [
      feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) =>
        `SELECT user_id, sum(amount)::BIGINT AS total_spend FROM ${source} GROUP BY user_id`,
      ),
      feature({ name: "user_total_spend_copy", keys: ["user_id"], source: transactions }, (source) =>
        `SELECT user_id, sum(amount)::BIGINT AS total_spend FROM ${source} GROUP BY user_id`,
      ),
      feature({ name: "user_balance", keys: ["user_id"], timestamp: "updated_at", source: balances }, (source) =>
        `SELECT user_id, updated_at, balance FROM ${source}`,
      ),
      feature({ name: "user_store_visits", keys: ["user_id", "store_id"], timestamp: "visited_at", source: visits }, (source) =>
        `SELECT user_id, store_id, visited_at, visits FROM ${source}`,
      ),
      feature({ name: "never_built", keys: ["user_id"], source: transactions }, (source) => `SELECT DISTINCT user_id FROM ${source}`),
    ],
  });
  await defs.build({ features: ["user_total_spend", "user_total_spend_copy", "user_balance", "user_store_visits"] });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  // Every test closes its frames; none may leave temporary entity files behind.
  const left = await readdir(scratch).catch(() => []);
  expect(left.filter((name) => name.startsWith("mlforge-"))).toEqual([]);
});

describe.each(["asof", "rank"] as const)("with the %s plan", (joinPlan) => {
  beforeAll(() => {
    plan = joinPlan;
  });
  afterAll(() => {
    plan = undefined;
  });

  describe("as-of join", () => {
    test("takes the latest feature row at or before the entity time: exact matches count, later rows never leak, none gives nulls", async () => {
      const result = await training({
        features: ["user_balance"],
        timestamp: "event_time",
        entities: [
          { user_id: 1, event_time: utc("2024-01-01T00:00:00") }, // exactly the first update
          { user_id: 1, event_time: utc("2023-12-31T23:59:59") }, // before any update
          { user_id: 1, event_time: utc("2024-01-04T23:59:59") }, // the 150 of 01-05 is still in the future
          { user_id: 1, event_time: utc("2024-01-05T00:00:00") }, // exactly the second update
          { user_id: 2, event_time: utc("2024-01-02T00:00:00") }, // user 2's first update is on 01-03
          { user_id: 2, event_time: utc("2024-02-01T00:00:00") },
          { user_id: 3, event_time: utc("2024-02-01T00:00:00") }, // unknown user
        ],
      });
      expect(result.columns).toEqual(["user_id", "event_time", "balance"]);
      expect(result.numRows).toBe(7);
      expect(result.rows).toEqual([
        { user_id: 1, event_time: utc("2024-01-01T00:00:00"), balance: 100 },
        { user_id: 1, event_time: utc("2023-12-31T23:59:59"), balance: null },
        { user_id: 1, event_time: utc("2024-01-04T23:59:59"), balance: 100 },
        { user_id: 1, event_time: utc("2024-01-05T00:00:00"), balance: 150 },
        { user_id: 2, event_time: utc("2024-01-02T00:00:00"), balance: null },
        { user_id: 2, event_time: utc("2024-02-01T00:00:00"), balance: 200 },
        { user_id: 3, event_time: utc("2024-02-01T00:00:00"), balance: null },
      ]);
    });

    test("joins a feature without a timestamp on its keys alone, whatever the entity time", async () => {
      const timed = await training({
        features: ["user_total_spend"],
        timestamp: "event_time",
        // Long before any transaction: a feature without timestamp is not filtered by time.
        entities: [{ user_id: 1, event_time: utc("2020-01-01T00:00:00") }],
      });
      expect(timed.rows).toEqual([{ user_id: 1, event_time: utc("2020-01-01T00:00:00"), total_spend: 35 }]);

      const untimed = await training({ features: ["user_total_spend"], entities: [{ user_id: 2 }, { user_id: 1 }, { user_id: 9 }] });
      expect(untimed.columns).toEqual(["user_id", "total_spend"]);
      expect(untimed.rows).toEqual([
        { user_id: 2, total_spend: 7 },
        { user_id: 1, total_spend: 35 },
        { user_id: 9, total_spend: null },
      ]);
    });

    test("joins several features with composite keys, value columns in the order the features are listed", async () => {
      const entities = [
        { user_id: 1, store_id: "A", event_time: utc("2024-01-03T00:00:00") }, // A visits of 01-04 are in the future
        { user_id: 1, store_id: "A", event_time: utc("2024-01-04T00:00:00") }, // exact match with TIMESTAMPTZ 01-04
        { user_id: 1, store_id: "B", event_time: utc("2024-01-01T00:00:00") }, // B's only visit is on 01-02
        { user_id: 2, store_id: "A", event_time: utc("2024-01-10T00:00:00") },
        { user_id: 2, store_id: "B", event_time: utc("2024-01-10T00:00:00") }, // no (2, B) at all
      ];
      const result = await training({ features: ["user_store_visits", "user_total_spend", "user_balance"], entities, timestamp: "event_time" });
      expect(result.columns).toEqual(["user_id", "store_id", "event_time", "visits", "total_spend", "balance"]);
      expect(result.rows).toEqual([
        { ...entities[0], visits: 1, total_spend: 35, balance: 100 },
        { ...entities[1], visits: 3, total_spend: 35, balance: 100 },
        { ...entities[2], visits: null, total_spend: 35, balance: 100 },
        { ...entities[3], visits: 4, total_spend: 7, balance: 200 },
        { ...entities[4], visits: null, total_spend: 7, balance: 200 },
      ]);

      const reversed = await training({ features: ["user_balance", "user_total_spend", "user_store_visits"], entities, timestamp: "event_time" });
      expect(reversed.columns).toEqual(["user_id", "store_id", "event_time", "balance", "total_spend", "visits"]);
      expect(reversed.rows.map((row) => [row.balance, row.total_spend, row.visits])).toEqual([
        [100, 35, 1],
        [100, 35, 3],
        [100, 35, null],
        [200, 7, 4],
        [200, 7, null],
      ]);
    });

    test("gives nulls for entity rows with a null key or a null timestamp", async () => {
      const result = await training({
        features: ["user_store_visits", "user_total_spend", "user_balance"],
        timestamp: "event_time",
        entities: [
          { user_id: null, store_id: "A", event_time: utc("2024-01-10T00:00:00") },
          { user_id: 1, store_id: null, event_time: utc("2024-01-10T00:00:00") },
          { user_id: 1, store_id: "A", event_time: null },
          { user_id: 1, store_id: "A" }, // a missing property is a null too
        ],
      });
      expect(result.rows).toEqual([
        { user_id: null, store_id: "A", event_time: utc("2024-01-10T00:00:00"), visits: null, total_spend: null, balance: null },
        // The keys-only feature still joins on user_id; (1, NULL) matches no visit.
        { user_id: 1, store_id: null, event_time: utc("2024-01-10T00:00:00"), visits: null, total_spend: 35, balance: 150 },
        { user_id: 1, store_id: "A", event_time: null, visits: null, total_spend: 35, balance: null },
        { user_id: 1, store_id: "A", event_time: null, visits: null, total_spend: 35, balance: null },
      ]);
    });

    test("keeps the entity rows' order and their duplicates over many rows", async () => {
      // Balances of user 1 change on 01-01 (100) and 01-05 (150); user 2's on 01-03 (200).
      const expected = (user: number, time: Date): number | null => {
        const days = time.getTime();
        if (user === 1) return days >= utc("2024-01-05T00:00:00").getTime() ? 150 : days >= utc("2024-01-01T00:00:00").getTime() ? 100 : null;
        if (user === 2) return days >= utc("2024-01-03T00:00:00").getTime() ? 200 : null;
        return null;
      };
      const entities = Array.from({ length: 6000 }, (_, index) => ({
        row: index,
        user_id: (index * 7) % 4,
        event_time: new Date(utc("2023-12-30T00:00:00").getTime() + ((index * 7919) % 10) * 86_400_000),
      }));
      entities.splice(10, 0, { ...entities[10]! }, { ...entities[10]! });
      const result = await training({ features: ["user_balance"], entities, timestamp: "event_time" });
      expect(result.numRows).toBe(6002);
      expect(result.rows.map((row) => row.row)).toEqual(entities.map((entity) => entity.row));
      expect(result.rows.slice(10, 13)).toEqual([result.rows[10], result.rows[10], result.rows[10]]);
      expect(result.rows.map((row) => row.balance)).toEqual(entities.map((entity) => expected(entity.user_id, entity.event_time)));
    });
  });

  describe("entity timestamps", () => {
    test("accepts ISO 8601 strings, with an offset or in UTC without one", async () => {
      const times = [
        "2024-01-05", // midnight UTC: exactly the 150 update
        "2024-01-04T23:59:59Z",
        "2024-01-04T20:00:00-05:00", // 2024-01-05T01:00Z
        "2024-01-05T01:00:00+02:00", // 2024-01-04T23:00Z
        "2024-01-04 23:00:00", // no offset: UTC
        null,
      ];
      const result = await training({ features: ["user_balance"], entities: times.map((event_time) => ({ user_id: 1, event_time })), timestamp: "event_time" });
      expect(result.rows).toEqual([
        { user_id: 1, event_time: "2024-01-05", balance: 150 },
        { user_id: 1, event_time: "2024-01-04T23:59:59Z", balance: 100 },
        { user_id: 1, event_time: "2024-01-04T20:00:00-05:00", balance: 150 },
        { user_id: 1, event_time: "2024-01-05T01:00:00+02:00", balance: 100 },
        { user_id: 1, event_time: "2024-01-04 23:00:00", balance: 100 },
        { user_id: 1, event_time: null, balance: null },
      ]);
    });

    test("reads Parquet TIMESTAMP entities and compares them in UTC with TIMESTAMP and TIMESTAMPTZ features", async () => {
      const file = path.join(directory, "entities-timestamp.parquet");
      await duckdb(`COPY (SELECT * FROM (VALUES
          (1, 'A', TIMESTAMP '2024-01-03 23:59:59'),
          (1, 'A', TIMESTAMP '2024-01-04 00:00:00'),
          (1, 'A', TIMESTAMP '2024-01-05 00:00:00')
        ) AS t(user_id, store_id, event_time)) TO '${file}' (FORMAT parquet)`);
      const result = await training({ features: ["user_balance", "user_store_visits"], entities: file, timestamp: "event_time" });
      expect(result.rows).toEqual([
        { user_id: 1, store_id: "A", event_time: utc("2024-01-03T23:59:59"), balance: 100, visits: 1 },
        { user_id: 1, store_id: "A", event_time: utc("2024-01-04T00:00:00"), balance: 100, visits: 3 },
        { user_id: 1, store_id: "A", event_time: utc("2024-01-05T00:00:00"), balance: 150, visits: 3 },
      ]);
    });

    test("reads Parquet TIMESTAMPTZ entities and compares them in UTC", async () => {
      const file = path.join(directory, "entities-timestamptz.parquet");
      await duckdb(`COPY (SELECT * FROM (VALUES
          (1, 'A', TIMESTAMPTZ '2024-01-04 01:00:00+02'),
          (1, 'A', TIMESTAMPTZ '2024-01-04 20:00:00-05')
        ) AS t(user_id, store_id, event_time)) TO '${file}' (FORMAT parquet)`);
      const result = await training({ features: ["user_balance", "user_store_visits"], entities: file, timestamp: "event_time" });
      expect(result.rows).toEqual([
        { user_id: 1, store_id: "A", event_time: utc("2024-01-03T23:00:00"), balance: 100, visits: 1 },
        { user_id: 1, store_id: "A", event_time: utc("2024-01-05T01:00:00"), balance: 150, visits: 3 },
      ]);
    });

    test("reads CSV and JSON entity files", async () => {
      const csv = path.join(directory, "entities.csv");
      await writeFile(csv, ["user_id,event_time", "1,2024-01-04 23:59:59", "1,", "2,2024-01-03 00:00:00"].join("\n"));
      const fromCsv = await training({ features: ["user_balance"], entities: csv, timestamp: "event_time" });
      expect(fromCsv.rows.map((row) => [row.user_id, row.balance])).toEqual([
        [1, 100],
        [1, null],
        [2, 200],
      ]);

      const json = path.join(directory, "entities.ndjson");
      await writeFile(json, ['{"user_id": 1, "event_time": "2024-01-05T00:00:00Z"}', '{"user_id": 2, "event_time": "2024-01-02T23:59:59Z"}'].join("\n"));
      const fromJson = await training({ features: ["user_balance"], entities: json, timestamp: "event_time" });
      expect(fromJson.rows.map((row) => [row.user_id, row.balance])).toEqual([
        [1, 150],
        [2, null],
      ]);
    });
  });
});

describe("choosing a plan", () => {
  const stats = (keys: number, rowWeightedRowsPerKey: number, maxRowsPerKey = Math.ceil(rowWeightedRowsPerKey)) => ({ keys, maxRowsPerKey, rowWeightedRowsPerKey });

  test("ranks while the estimated pairs stay within RANK_PLAN_MAX_PAIRS_PER_ROW per row read, and uses ASOF beyond", () => {
    // The benchmark's daily feature, 70 rows per user: 7M rows over 100k users.
    const daily = { featureRows: 7_000_000, keyStats: stats(100_000, 70) };
    expect(choosePlan({ ...daily, entityRows: 100_000 })).toBe("rank"); // 3.5M pairs for 7.1M rows read
    expect(choosePlan({ ...daily, entityRows: 1_000_000 })).toBe("asof"); // 35M pairs for 8M rows read
    // At the threshold exactly: pairs = E × 70 / 2 = 35E, against 3 × (F + E).
    const entityRows = 1_000;
    const featureRows = (35 * entityRows) / RANK_PLAN_MAX_PAIRS_PER_ROW - entityRows;
    expect(choosePlan({ entityRows, featureRows, keyStats: stats(100, 70) })).toBe("rank");
    expect(choosePlan({ entityRows, featureRows: featureRows - 1, keyStats: stats(100, 70) })).toBe("asof");
    expect(estimatedRankPairs({ entityRows, featureRows, keyStats: stats(100, 70) })).toBe(35_000);
  });

  test("a few busy keys make the rank plan's pairs explode: ASOF, even for few entity rows", () => {
    // 5M rows over 1,000 keys, one of them holding 10%: rows / keys is 5,000, but a row's key has 150k rows on average.
    const skewed = { featureRows: 5_000_000, keyStats: stats(1_000, 150_000, 500_000) };
    expect(choosePlan({ ...skewed, entityRows: 100_000 })).toBe("asof");
    expect(choosePlan({ ...skewed, entityRows: 1_000 })).toBe("asof");
    // The rule for builds without keyStats (rank at 5 feature rows per entity row) would rank both.
    expect(choosePlan({ featureRows: 5_000_000, entityRows: 100_000 })).toBe("rank");
  });

  test("the share of feature rows before the entity times, from both ranges, worked out by hand", () => {
    const range = (first: number, last: number) => ({ first, last });
    expect(shareAtOrBefore(range(0, 10), range(0, 10))).toBe(0.5);
    expect(shareAtOrBefore(range(20, 30), range(0, 10))).toBe(1); // scoring after every feature row
    expect(shareAtOrBefore(range(-30, -20), range(0, 10))).toBe(0); // before any
    expect(shareAtOrBefore(range(0, 20), range(0, 10))).toBe(0.75); // half the entity times after every row: (5 + 10) / 20
    expect(shareAtOrBefore(range(7.5, 7.5), range(0, 10))).toBe(0.75); // one entity time
    expect(shareAtOrBefore(range(0, 10), range(5, 5))).toBe(0.5); // one feature time: the entity times at or after it
  });

  test("entity times after every feature row double the pairs, before them there are none", () => {
    const keyStats = { ...stats(100_000, 70), firstTime: "2025-01-01T00:00:00.000Z", lastTime: "2025-01-31T00:00:00.000Z" };
    const facts = { featureRows: 7_000_000, entityRows: 500_000, keyStats };
    const at = (first: string, last: string) => ({ first: Date.parse(first), last: Date.parse(last) });
    // Spread alike: 500k × 70 / 2 = 17.5M pairs, within 3 × 7.5M.
    expect(estimatedRankPairs({ ...facts, entityTimes: at("2025-01-01T00:00:00Z", "2025-01-31T00:00:00Z") })).toBe(17_500_000);
    expect(choosePlan({ ...facts, entityTimes: at("2025-01-01T00:00:00Z", "2025-01-31T00:00:00Z") })).toBe("rank");
    // All in February: every row of the key is earlier, 35M pairs.
    expect(choosePlan({ ...facts, entityTimes: at("2025-02-01T00:00:00Z", "2025-02-28T00:00:00Z") })).toBe("asof");
    // All in December, before any row: no pairs, even on the skewed shape.
    const skewed = { featureRows: 5_000_000, entityRows: 1_000_000, keyStats: { ...stats(1_000, 150_000), firstTime: keyStats.firstTime, lastTime: keyStats.lastTime } };
    expect(estimatedRankPairs({ ...skewed, entityTimes: at("2024-12-01T00:00:00Z", "2024-12-31T00:00:00Z") })).toBe(0);
    expect(choosePlan({ ...skewed, entityTimes: at("2024-12-01T00:00:00Z", "2024-12-31T00:00:00Z") })).toBe("rank");
  });

  test("without keyStats (built by an older version), the older rule: rank from RANK_PLAN_MIN_FEATURE_ROWS_PER_ENTITY_ROW feature rows per entity row", () => {
    expect(choosePlan({ entityRows: 100_000, featureRows: 8_700_000 })).toBe("rank");
    expect(choosePlan({ entityRows: 5_000_000, featureRows: 8_700_000 })).toBe("asof");
    expect(choosePlan({ entityRows: 10, featureRows: 10 * RANK_PLAN_MIN_FEATURE_ROWS_PER_ENTITY_ROW })).toBe("rank");
    expect(choosePlan({ entityRows: 10, featureRows: 10 * RANK_PLAN_MIN_FEATURE_ROWS_PER_ENTITY_ROW - 1 })).toBe("asof");
  });

  describe("on two shapes, both plans give the rows worked out by hand, and auto picks the plan the rule says from what the build recorded", () => {
    const start = Date.parse("2024-03-01T00:00:00Z");
    const HOUR = 3_600_000;
    let shapes: Definitions;

    beforeAll(async () => {
      // Many keys with a few rows each: day d of key k (d = 0..3) holds 10k + d.
      const many = path.join(directory, "many-keys.parquet");
      await duckdb(`COPY (SELECT k AS key_id, TIMESTAMP '2024-03-01' + INTERVAL (d) DAY AS updated_at, 10 * k + d AS value
        FROM range(1, 41) AS a(k), range(4) AS b(d)) TO '${many}' (FORMAT parquet)`);
      // Few skewed keys: key 1 has a row every hour for 500 hours (value h at hour h), key 2 one row (value -1 at hour 10).
      const skewed = path.join(directory, "skewed-keys.parquet");
      await duckdb(`COPY (SELECT 1 AS key_id, TIMESTAMP '2024-03-01' + INTERVAL (h) HOUR AS updated_at, h AS value FROM range(500) AS t(h)
        UNION ALL SELECT 2, TIMESTAMP '2024-03-01 10:00:00', -1) TO '${skewed}' (FORMAT parquet)`);
      shapes = new Definitions({
        name: "plan-shapes",
        offlineStore: new LocalStore(path.join(directory, "shapes-store")),
        engine: { tempDirectory: scratch, threads: 2 },
        features: [
          feature({ name: "many_keys", keys: ["key_id"], timestamp: "updated_at", source: many }, (source) => `SELECT key_id, updated_at, value FROM ${source}`),
          feature({ name: "skewed_keys", keys: ["key_id"], timestamp: "updated_at", source: skewed }, (source) => `SELECT key_id, updated_at, value FROM ${source}`),
        ],
      });
      await shapes.build();
    });

    async function rowsWith(name: string, entities: Record<string, unknown>[], joinPlan: TrainingDataOptions["plan"]): Promise<unknown[][]> {
      const frame = await shapes.getTrainingData({ features: [name], entities, timestamp: "event_time", plan: joinPlan });
      try {
        return (await frame.rows()).map((row) => [row.key_id, row.value]);
      } finally {
        await frame.close();
      }
    }

    async function keyStatsOf(name: string) {
      const listing = (await shapes.list()).find((item) => item.feature.name === name);
      return listing?.metadata;
    }

    test("many keys, few rows each: rank", async () => {
      // Key k at day d + 12h sees day d's row; before day 0 nothing; a key with no rows nothing.
      const entities = [
        { key_id: 3, event_time: new Date(start + 2 * 24 * HOUR + 12 * HOUR) },
        { key_id: 40, event_time: new Date(start - HOUR) },
        { key_id: 7, event_time: new Date(start + 3 * 24 * HOUR) },
        { key_id: 99, event_time: new Date(start + 24 * HOUR) },
        { key_id: 1, event_time: new Date(start + 100 * 24 * HOUR) },
      ];
      const expected = [
        [3, 32],
        [40, null],
        [7, 73],
        [99, null],
        [1, 13],
      ];
      for (const joinPlan of ["asof", "rank", "auto"] as const) expect(await rowsWith("many_keys", entities, joinPlan)).toEqual(expected);
      const metadata = await keyStatsOf("many_keys");
      expect(metadata?.keyStats).toEqual({ keys: 40, maxRowsPerKey: 4, rowWeightedRowsPerKey: 4, firstTime: "2024-03-01T00:00:00.000Z", lastTime: "2024-03-04T00:00:00.000Z" });
      // At most 5 entity rows × 4 = 20 pairs, against 3 × (160 + 5).
      expect(choosePlan({ entityRows: entities.length, featureRows: metadata!.rows, keyStats: metadata!.keyStats })).toBe("rank");
    });

    test("few keys, one holding nearly every row: ASOF", async () => {
      // 40 entity rows on key 1 at hour 5i + 30 min see the row of hour 5i (value 5i); key 2 before hour 10 sees nothing, after it -1.
      const entities: Record<string, unknown>[] = Array.from({ length: 40 }, (_, index) => ({ key_id: 1, event_time: new Date(start + 5 * index * HOUR + HOUR / 2) }));
      entities.push({ key_id: 2, event_time: new Date(start + 9 * HOUR) }, { key_id: 2, event_time: new Date(start + 10 * HOUR) }, { key_id: 1, event_time: new Date(start + 10_000 * HOUR) });
      const expected = [...Array.from({ length: 40 }, (_, index) => [1, 5 * index]), [2, null], [2, -1], [1, 499]];
      for (const joinPlan of ["asof", "rank", "auto"] as const) expect(await rowsWith("skewed_keys", entities, joinPlan)).toEqual(expected);
      const metadata = await keyStatsOf("skewed_keys");
      // A row's key has 500 rows for 500 of the 501 rows, 1 for the other: (500² + 1) / 501.
      expect(metadata?.keyStats).toEqual({
        keys: 2,
        maxRowsPerKey: 500,
        rowWeightedRowsPerKey: (500 * 500 + 1) / 501,
        firstTime: "2024-03-01T00:00:00.000Z",
        lastTime: "2024-03-21T19:00:00.000Z",
      });
      // 43 × 499 / 2 ≈ 10.7k pairs, against 3 × (501 + 43) = 1,632.
      expect(choosePlan({ entityRows: entities.length, featureRows: metadata!.rows, keyStats: metadata!.keyStats })).toBe("asof");
    });
  });

  test("refuses an unknown plan", async () => {
    const error = await rejection(defs.getTrainingData({ features: ["user_balance"], entities: [{ user_id: 1, event_time: utc("2024-01-01T00:00:00") }], timestamp: "event_time", plan: "hash" as never }));
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toContain("'hash'");
  });
});

describe("errors before any work", () => {
  const at = utc("2024-01-10T00:00:00");

  test("an empty feature list", async () => {
    const error = await rejection(defs.getTrainingData({ features: [], entities: [{ user_id: 1 }] }));
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toMatch(/needs at least one feature name/);
  });

  test("an unknown feature, listing the defined ones", async () => {
    const error = await rejection(defs.getTrainingData({ features: ["user_balance", "nope"], entities: [{ user_id: 1 }], timestamp: "event_time" }));
    expect(error).toBeInstanceOf(FeatureNotFoundError);
    expect(error.message).toBe(
      "Feature 'nope' is not defined. Available: user_total_spend, user_total_spend_copy, user_balance, user_store_visits, never_built.",
    );
  });

  test("a feature never built, saying how to build it", async () => {
    const error = await rejection(defs.getTrainingData({ features: ["user_total_spend", "never_built"], entities: [{ user_id: 1 }] }));
    expect(error).toBeInstanceOf(FeatureNotBuiltError);
    expect(MlforgeError.isInstance(error)).toBe(true);
    expect((error as FeatureNotBuiltError).features).toEqual(["never_built"]);
    expect(error.message).toContain("Feature 'never_built' has not been built into the offline store");
    expect(error.message).toContain("run `mlforge build --features never_built`");
    expect(error.message).toContain('`await defs.build({ features: ["never_built"] })`');
  });

  test("entity rows without a key column, naming it and listing the entity columns", async () => {
    const error = await rejection(
      defs.getTrainingData({ features: ["user_total_spend", "user_balance"], entities: [{ uid: 1, event_time: at }], timestamp: "event_time" }),
    );
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toBe(
      "The entity rows have no column 'user_id' (a key of features 'user_total_spend', 'user_balance'). Entity columns: uid, event_time. Add it to the entity rows.",
    );
  });

  test("an entities file without the timestamp column", async () => {
    const file = path.join(directory, "no-time.csv");
    await writeFile(file, "user_id,store_id,label\n1,A,true\n");
    const error = await rejection(defs.getTrainingData({ features: ["user_store_visits"], entities: file, timestamp: "event_time" }));
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toBe(
      `The entities file '${file}' has no column 'event_time' (the \`timestamp\` option). Entity columns: user_id, store_id, label. ` +
        "Add it to the entity rows, or set `timestamp` to the entity rows' event-time column.",
    );
  });

  test("no timestamp option while a feature has a timestamp", async () => {
    const error = await rejection(defs.getTrainingData({ features: ["user_total_spend", "user_balance"], entities: [{ user_id: 1, when: at }] }));
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toContain("Feature 'user_balance' has a timestamp, so getTrainingData needs `timestamp`");
    expect(error.message).toContain("Entity columns: user_id, when.");
  });

  test("a feature column that clashes with an entity column", async () => {
    const error = await rejection(
      defs.getTrainingData({ features: ["user_balance"], entities: [{ user_id: 1, balance: 5, event_time: at }], timestamp: "event_time" }),
    );
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toBe(
      "Column 'balance' of feature 'user_balance' clashes with the entity column 'balance'. Every output column needs its own name: " +
        "rename the column in the feature's SELECT (for example `SELECT …, balance AS user_balance_balance`) and rebuild it, or rename or drop the entity column.",
    );
  });

  test("feature columns that clash with each other", async () => {
    const error = await rejection(defs.getTrainingData({ features: ["user_total_spend", "user_total_spend_copy"], entities: [{ user_id: 1 }] }));
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toBe(
      "Column 'total_spend' of feature 'user_total_spend_copy' clashes with column 'total_spend' of feature 'user_total_spend'. " +
        "Every output column needs its own name: rename the column in the feature's SELECT (for example `SELECT …, total_spend AS user_total_spend_copy_total_spend`) and rebuild it.",
    );
  });

  test("a timestamp string that is not a time, with no temporary file left behind", async () => {
    const error = await rejection(
      defs.getTrainingData({ features: ["user_balance"], entities: [{ user_id: 1, event_time: "2024-01-01" }, { user_id: 1, event_time: "yesterday" }], timestamp: "event_time" }),
    );
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toMatch(/^Entity column 'event_time' holds 'yesterday', which is not an ISO 8601 time\./);
  });

  test("entity rows it cannot store", async () => {
    const mixed = await rejection(defs.getTrainingData({ features: ["user_total_spend"], entities: [{ user_id: 1 }, { user_id: "2" }] }));
    expect(mixed).toBeInstanceOf(TrainingDataError);
    expect(mixed.message).toBe("Entity column 'user_id' mixes numbers and strings. Use one type per column (for timestamps: all Dates or all ISO 8601 strings).");
    const empty = await rejection(defs.getTrainingData({ features: ["user_total_spend"], entities: [] }));
    expect(empty).toBeInstanceOf(TrainingDataError);
  });
});
