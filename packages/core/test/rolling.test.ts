import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BuildError, Definitions, feature, FeatureBuildError, FeatureDefinitionError, type Duration, type Feature, type RollingAggregation } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { literal, query } from "@mlforge/test-support";

let directory: string;
let storePath: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-rolling-"));
  storePath = path.join(directory, "store");
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Event {
  user_id: string;
  event_time: number;
  amount: number | null;
  product_id: string | null;
}

function iso(milliseconds: number): string {
  return new Date(milliseconds).toISOString().replace("T", " ").replace("Z", "");
}

async function writeEvents(events: readonly Event[], file = "events.csv"): Promise<string> {
  const lines = ["user_id,event_time,amount,product_id", ...events.map((event) => `${event.user_id},${iso(event.event_time)},${event.amount ?? ""},${event.product_id ?? ""}`)];
  const target = path.join(directory, file);
  await writeFile(target, `${lines.join("\n")}\n`);
  return target;
}

const TRANSFORM = (source: string) =>
  `SELECT user_id::VARCHAR AS user_id, event_time::TIMESTAMP AS event_time, amount::DOUBLE AS amount, product_id::VARCHAR AS product_id FROM ${source}`;

async function buildRows(definition: Feature): Promise<Record<string, unknown>[]> {
  const defs = new Definitions({ name: "test", features: [definition], offlineStore: new LocalStore(storePath) });
  await defs.build();
  return query(`SELECT * FROM read_parquet(${literal(path.join(storePath, `${definition.name}.parquet`))}) ORDER BY ALL`);
}

const utc = (text: string) => Date.parse(`${text}Z`);

describe("rolling windows, worked by hand", () => {
  test("boundaries, an event exactly on one, nulls, two windows draining apart, a key that goes quiet and comes back", async () => {
    const source = await writeEvents([
      { user_id: "u1", event_time: utc("2025-01-01T10:00:00"), amount: 10, product_id: "p1" },
      { user_id: "u1", event_time: utc("2025-01-01T23:59:59"), amount: 5, product_id: "p2" },
      { user_id: "u1", event_time: utc("2025-01-02T00:00:00"), amount: 20, product_id: "p1" },
      { user_id: "u1", event_time: utc("2025-01-20T12:00:00"), amount: 7, product_id: "p3" },
      { user_id: "u2", event_time: utc("2025-01-01T12:00:00"), amount: null, product_id: null },
    ]);
    const rows = await buildRows(
      feature(
        { name: "spend", keys: ["user_id"], source, timestamp: "event_time", rolling: { interval: "1d", windows: ["2d", "4d"], aggregations: { amount: ["count", "sum"], product_id: ["count_distinct"] } } },
        TRANSFORM,
      ),
    );
    const row = (user: string, day: string, count2: number, sum2: number | null, count4: number, sum4: number | null, distinct2: number, distinct4: number) => ({
      user_id: user,
      as_of: new Date(`${day}T00:00:00Z`),
      amount_count_2d: BigInt(count2),
      amount_count_4d: BigInt(count4),
      amount_sum_2d: sum2,
      amount_sum_4d: sum4,
      product_id_count_distinct_2d: BigInt(distinct2),
      product_id_count_distinct_4d: BigInt(distinct4),
    });
    const sorted = rows.map((item) => ({ ...item })).sort((a, b) => `${a.user_id}${(a.as_of as Date).toISOString()}`.localeCompare(`${b.user_id}${(b.as_of as Date).toISOString()}`));
    expect(sorted).toEqual([
      // 23:59:59 is in the day before the boundary; 00:00:00 exactly is not in the row stamped at it.
      row("u1", "2025-01-02", 2, 15, 2, 15, 2, 2),
      row("u1", "2025-01-03", 3, 35, 3, 35, 2, 2),
      row("u1", "2025-01-04", 1, 20, 3, 35, 1, 2),
      row("u1", "2025-01-05", 0, null, 3, 35, 0, 2),
      row("u1", "2025-01-06", 0, null, 1, 20, 0, 1),
      // Every window empty: a row says so, then nothing until the key comes back.
      row("u1", "2025-01-07", 0, null, 0, null, 0, 0),
      row("u1", "2025-01-21", 1, 7, 1, 7, 1, 1),
      row("u1", "2025-01-23", 0, null, 1, 7, 0, 1),
      row("u1", "2025-01-25", 0, null, 0, null, 0, 0),
      // A null amount enters and leaves the windows: rows, though no value changes.
      row("u2", "2025-01-02", 0, null, 0, null, 0, 0),
      row("u2", "2025-01-04", 0, null, 0, null, 0, 0),
      row("u2", "2025-01-06", 0, null, 0, null, 0, 0),
    ]);
    const schema = await query(`DESCRIBE SELECT * FROM read_parquet(${literal(path.join(storePath, "spend.parquet"))})`);
    expect(schema.find((column) => column.column_name === "as_of")?.column_type).toBe("TIMESTAMP");
  });

  test("TIMESTAMPTZ events are bucketed in UTC in a process whose TZ is America/New_York", async () => {
    const script = `
      const { Definitions, feature } = require(${JSON.stringify(path.join(__dirname, "../dist/index.cjs"))});
      const { LocalStore } = require(${JSON.stringify(path.join(__dirname, "../../store-local/dist/index.cjs"))});
      const { DuckDBInstance } = require("@duckdb/node-api");
      (async () => {
        const spend = feature({ name: "tz_spend", keys: ["user_id"], source: ${JSON.stringify(path.join(directory, "tz.csv"))}, timestamp: "event_time",
          rolling: { interval: "1d", windows: ["1d"], aggregations: { amount: ["sum"] } } },
          (t) => "SELECT user_id, (event_time || '-05')::TIMESTAMPTZ AS event_time, amount::DOUBLE AS amount FROM " + t);
        const defs = new Definitions({ name: "tz", features: [spend], offlineStore: new LocalStore(${JSON.stringify(storePath)}) });
        await defs.build();
        const db = await DuckDBInstance.create(":memory:");
        const connection = await db.connect();
        const reader = await connection.runAndReadAll("SELECT strftime(as_of, '%Y-%m-%d %H:%M') AS as_of, amount_sum_1d FROM read_parquet(" + JSON.stringify(${JSON.stringify(path.join(storePath, "tz_spend.parquet"))}).replaceAll('"', "'") + ") ORDER BY as_of");
        console.log(JSON.stringify({ tz: Intl.DateTimeFormat().resolvedOptions().timeZone, rows: reader.getRowObjectsJson() }));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    // 23:30 in New York on Jan 1 is 04:30 UTC on Jan 2: the UTC day of Jan 2, whose row is stamped Jan 3.
    await writeFile(path.join(directory, "tz.csv"), "user_id,event_time,amount\nu1,2025-01-01 23:30:00,4\n");
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { env: { ...process.env, TZ: "America/New_York" }, cwd: path.join(__dirname, "..") });
    expect(JSON.parse(stdout)).toEqual({
      tz: "America/New_York",
      rows: [
        { as_of: "2025-01-03 00:00", amount_sum_1d: 4 },
        { as_of: "2025-01-04 00:00", amount_sum_1d: null },
      ],
    });
  });
});

describe("rolling windows, validated", () => {
  const base = { name: "spend", keys: ["user_id"], source: "events.csv", timestamp: "event_time" } as const;
  test.each([
    [{ interval: "1d", windows: ["7d"], aggregations: { amount: ["median"] } }, `unknown aggregation "median" for 'amount'. Known aggregations: count, sum, mean, min, max, stddev, count_distinct.`],
    [{ interval: "1 day", windows: ["7d"], aggregations: { amount: ["sum"] } }, `option 'rolling' 'interval' is "1 day", which is not a duration.`],
    [{ interval: "1d", windows: ["7x"], aggregations: { amount: ["sum"] } }, `window is "7x", which is not a duration.`],
    [{ interval: "2d", windows: ["7d"], aggregations: { amount: ["sum"] } }, `window "7d", which is not a whole multiple of the interval "2d"`],
  ])("feature() refuses %j", (rolling, message) => {
    expect(() => feature({ ...base, rolling: rolling as never }, TRANSFORM)).toThrow(FeatureDefinitionError);
    expect(() => feature({ ...base, rolling: rolling as never }, TRANSFORM)).toThrow(message);
  });

  test("the build refuses a null key (rows are unique per key and as_of by construction, so nulls are what is checked)", async () => {
    const source = await writeEvents([
      { user_id: "u1", event_time: utc("2025-01-01T10:00:00"), amount: 1, product_id: "p" },
      { user_id: "", event_time: utc("2025-01-02T10:00:00"), amount: 2, product_id: "p" },
    ]);
    const definition = feature({ ...base, source, rolling: { interval: "1d", windows: ["2d"], aggregations: { amount: ["sum"] } } }, (t) =>
      `SELECT nullif(user_id::VARCHAR, '') AS user_id, event_time::TIMESTAMP AS event_time, amount::DOUBLE AS amount FROM ${t}`,
    );
    const defs = new Definitions({ name: "test", features: [definition], offlineStore: new LocalStore(storePath) });
    const error = await defs.build().catch((caught: unknown) => caught);
    expect(BuildError.isInstance(error)).toBe(true);
    expect((error as BuildError).result.failed[0]?.error?.message).toContain("its output has a row whose key column 'user_id' is NULL");
    expect(await defs.list()).toEqual([expect.objectContaining({ metadata: undefined })]);
  });

  test("records its rows per key: a row at each boundary where an event enters or leaves the window", async () => {
    // u1: events on Jan 1 and Jan 2 (2-day window): rows at Jan 2, 3 (enter) and Jan 4, 5 (leave) → 4 rows; u2: one event → Jan 2 and Jan 4.
    const source = await writeEvents([
      { user_id: "u1", event_time: utc("2025-01-01T10:00:00"), amount: 1, product_id: "p" },
      { user_id: "u1", event_time: utc("2025-01-02T10:00:00"), amount: 2, product_id: "p" },
      { user_id: "u2", event_time: utc("2025-01-01T11:00:00"), amount: 3, product_id: "p" },
    ]);
    const definition = feature({ ...base, source, rolling: { interval: "1d", windows: ["2d"], aggregations: { amount: ["sum"] } } }, TRANSFORM);
    expect(await buildRows(definition)).toHaveLength(6);
    const defs = new Definitions({ name: "test", features: [definition], offlineStore: new LocalStore(storePath) });
    const [listing] = await defs.list();
    expect(listing?.metadata?.keyStats).toEqual({
      keys: 2,
      maxRowsPerKey: 4,
      rowWeightedRowsPerKey: (4 * 4 + 2 * 2) / 6,
      firstTime: "2025-01-02T00:00:00.000Z",
      lastTime: "2025-01-05T00:00:00.000Z",
    });
  });

  test("feature() refuses rolling without a timestamp", () => {
    const attempt = () => feature({ name: "spend", keys: ["user_id"], source: "events.csv", rolling: { interval: "1d", windows: ["7d"], aggregations: { amount: ["sum"] } } }, TRANSFORM);
    expect(attempt).toThrow(FeatureDefinitionError);
    expect(attempt).toThrow("has rolling windows but no timestamp");
  });

  test.each([
    ["amount", "its output has no aggregated column 'amount'"],
    ["event_time", "its output has no timestamp column 'event_time'"],
  ])("the build refuses a transform without '%s' before writing anything", async (dropped, message) => {
    const source = await writeEvents([{ user_id: "u1", event_time: utc("2025-01-01T10:00:00"), amount: 1, product_id: "p" }]);
    const columns = ["user_id", "event_time", "amount"].filter((column) => column !== dropped).join(", ");
    const definition = feature({ ...base, source, rolling: { interval: "1d", windows: ["7d"], aggregations: { amount: ["sum"] } } }, (t) => `SELECT ${columns} FROM ${t}`);
    const defs = new Definitions({ name: "test", features: [definition], offlineStore: new LocalStore(storePath) });
    const error = await defs.build().catch((caught: unknown) => caught);
    expect(BuildError.isInstance(error)).toBe(true);
    const cause = (error as BuildError).result.failed[0]?.error;
    expect(FeatureBuildError.isInstance(cause) && cause.message).toContain(message);
    expect(await defs.list()).toEqual([expect.objectContaining({ metadata: undefined })]);
  });
});

/** A seeded pseudo-random generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const ALL: RollingAggregation[] = ["count", "sum", "mean", "min", "max", "stddev"];

/** The aggregates computed directly over the events of `user` with `from <= event_time < to`. */
function bruteForce(events: readonly Event[], user: string, from: number, to: number): Record<string, number | null> {
  const inside = events.filter((event) => event.user_id === user && event.event_time >= from && event.event_time < to);
  const amounts = inside.map((event) => event.amount).filter((amount): amount is number => amount !== null);
  const n = amounts.length;
  const sum = amounts.reduce((total, amount) => total + amount, 0);
  const mean = n === 0 ? null : sum / n;
  const variance = n < 2 ? null : amounts.reduce((total, amount) => total + (amount - mean!) ** 2, 0) / (n - 1);
  return {
    count: n,
    sum: n === 0 ? null : sum,
    mean,
    min: n === 0 ? null : Math.min(...amounts),
    max: n === 0 ? null : Math.max(...amounts),
    stddev: variance === null ? null : Math.sqrt(variance),
    count_distinct: new Set(inside.map((event) => event.product_id).filter((product) => product !== null)).size,
  };
}

function close(actual: unknown, expected: number | null): boolean {
  if (expected === null || actual === null || actual === undefined) return (actual ?? null) === expected;
  const value = Number(actual);
  return Math.abs(value - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

describe.each([
  { interval: "1h" as const, unit: HOUR, windows: ["3h", "24h"] as Duration[], spanUnits: 24 * 6 },
  { interval: "1d" as const, unit: DAY, windows: ["7d", "30d"] as Duration[], spanUnits: 120 },
])("rolling windows at interval $interval equal a brute-force computation", ({ interval, unit, windows, spanUnits }) => {
  test("at random times, by point-in-time lookup in the stored rows and in training data", async () => {
    const next = random(interval === "1h" ? 7 : 11);
    const start = utc("2024-03-01T00:00:00");
    const users = ["u1", "u2", "u3", "u4", "u5"];
    const events: Event[] = [];
    for (let index = 0; index < 600; index++) {
      const user = users[Math.floor(next() * users.length)]!;
      // Some events exactly on a boundary; the rest anywhere, to the second.
      const onBoundary = next() < 0.15;
      const offset = onBoundary ? Math.floor(next() * spanUnits) * unit : Math.floor(next() * spanUnits * unit / 1000) * 1000;
      events.push({
        user_id: user,
        event_time: start + offset,
        amount: next() < 0.1 ? null : Math.round(next() * 100_000) / 100,
        product_id: next() < 0.1 ? null : `p${Math.floor(next() * 8)}`,
      });
    }
    const source = await writeEvents(events);
    const definition = feature(
      { name: "spend", keys: ["user_id"], source, timestamp: "event_time", rolling: { interval, windows, aggregations: { amount: ALL, product_id: ["count_distinct"] } } },
      TRANSFORM,
    );
    const rows = await buildRows(definition);
    const byUser = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) byUser.set(row.user_id as string, [...(byUser.get(row.user_id as string) ?? []), row]);

    const lookups: { user_id: string; t: number }[] = [];
    for (let index = 0; index < 300; index++) {
      lookups.push({ user_id: users[Math.floor(next() * (users.length + 1))] ?? "nobody", t: start - 3 * unit + Math.floor(next() * (spanUnits + 40) * unit) });
    }
    // Some lookups exactly on a boundary.
    for (let index = 0; index < 40; index++) lookups.push({ user_id: users[index % users.length]!, t: start + Math.floor(next() * spanUnits) * unit });

    const defs = new Definitions({ name: "test", features: [definition], offlineStore: new LocalStore(storePath) });
    const training = await defs.getTrainingData({ features: ["spend"], entities: lookups.map((lookup) => ({ user_id: lookup.user_id, event_time: new Date(lookup.t) })), timestamp: "event_time" });
    const trained = await training.rows();
    await training.close();

    const mismatches: unknown[] = [];
    for (const [index, { user_id, t }] of lookups.entries()) {
      const boundary = Math.floor(t / unit) * unit;
      const stored = (byUser.get(user_id) ?? []).filter((row) => (row.as_of as Date).getTime() <= t).at(-1);
      const joined = trained.find((row) => row.user_id === user_id && (row.event_time as Date).getTime() === t) as Record<string, unknown> | undefined;
      for (const window of windows) {
        const milliseconds = Number(String(window).slice(0, -1)) * unit;
        const expected = bruteForce(events, user_id, boundary - milliseconds, boundary);
        for (const aggregation of [...ALL, "count_distinct"] as const) {
          const column = `${aggregation === "count_distinct" ? "product_id" : "amount"}_${aggregation}_${window}`;
          // No row at or before t: the key had no event before t's boundary, so every window is empty.
          const want = stored === undefined && (aggregation === "count" || aggregation === "count_distinct") ? null : expected[aggregation]!;
          if (stored !== undefined ? !close(stored[column], want) : want !== null && want !== 0) mismatches.push({ index, user_id, t: iso(t), column, stored: stored?.[column], want });
          if (!close(joined?.[column] ?? null, stored === undefined ? null : want)) mismatches.push({ index, training: true, user_id, t: iso(t), column, joined: joined?.[column], want });
        }
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(rows.length).toBeGreaterThan(100);
  });
});
