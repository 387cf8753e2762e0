import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, FeatureNotBuiltError, FeatureVersionNotFoundError, InvalidOptionError, PreviousVersionNotFoundError, type FeatureDiff } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let source: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-diff-"));
  source = path.join(directory, "users.csv");
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const store = () => path.join(directory, "store");

/** Definitions of feature `user_stats` (keys: user_id) with the given transform of `users.csv`. */
function userStats(sql: string, keepVersions?: number): Definitions {
  const stats = feature({ name: "user_stats", keys: ["user_id"], source }, (users) => sql.replace("$users", users));
  return new Definitions({ name: "test", features: [stats], offlineStore: new LocalStore(store()), ...(keepVersions === undefined ? {} : { keepVersions }) });
}

/** Definitions of feature `daily_spend` (keys: user_id, timestamp: day). */
function dailySpend(sql: string): Definitions {
  const spend = feature({ name: "daily_spend", keys: ["user_id"], timestamp: "day", source }, (users) => sql.replace("$users", users));
  return new Definitions({ name: "test", features: [spend], offlineStore: new LocalStore(store()) });
}

/** Builds `defs` from `csv` (every build keeps its version) and returns its build id. */
async function build(defs: Definitions, name: string, csv: string): Promise<string> {
  await writeFile(source, csv);
  await defs.build();
  return (await defs.metadata(name))!.buildId;
}

// Build A: u1..u4; score 1, 2, 3, NULL (mean 2, one null); visits INTEGER 10, NULL, 30, 50 (mean 30,
// one null); legacy VARCHAR.
const CSV_A = "user_id,score,visits,legacy\nu1,1,10,x\nu2,2,,y\nu3,3,30,z\nu4,,50,w\n";
const SQL_A = "SELECT user_id, score::DOUBLE AS score, visits::INTEGER AS visits, legacy::VARCHAR AS legacy FROM $users";
// Build B: u1, u2, u5, u6 (u3 and u4 gone); score 1, 2.5 (u2 changed), 5.5, NULL (mean 3, one null);
// visits now DOUBLE 10, 20, NULL, NULL (mean 15, two nulls); legacy removed; region added.
const CSV_B = "user_id,score,visits,region\nu1,1,10,eu\nu2,2.5,20,eu\nu5,5.5,,us\nu6,,,us\n";
const SQL_B = "SELECT user_id, score::DOUBLE AS score, visits::DOUBLE AS visits, region::VARCHAR AS region FROM $users";

/** Builds A, then B, each kept as a version; returns their build ids. */
async function twoBuilds(): Promise<{ a: string; b: string }> {
  await using first = userStats(SQL_A);
  const a = await build(first, "user_stats", CSV_A);
  await using second = userStats(SQL_B);
  const b = await build(second, "user_stats", CSV_B);
  return { a, b };
}

describe("diff of two builds", () => {
  test("previous → current by default: columns added, removed and retyped; rows and keys; means and null counts", async () => {
    const { a, b } = await twoBuilds();
    await using defs = userStats(SQL_B);
    expect((await readdir(path.join(store(), "_versions", "user_stats"))).sort()).toEqual([`${a}.json`, `${a}.parquet`, `${b}.json`, `${b}.parquet`]);
    const diff = await defs.diff("user_stats");
    expect(diff).toEqual<FeatureDiff>({
      name: "user_stats",
      from: expect.objectContaining({ buildId: a, rows: 4, current: false }),
      to: expect.objectContaining({ buildId: b, rows: 4, current: true }),
      keys: ["user_id"],
      timestamp: null,
      columns: {
        added: [{ name: "region", type: "VARCHAR" }],
        removed: [{ name: "legacy", type: "VARCHAR" }],
        retyped: [{ name: "visits", from: "INTEGER", to: "DOUBLE" }],
      },
      // u5, u6 added; u3, u4 removed; u2's score changed (visits is retyped, so not compared).
      rows: { added: 2, removed: 2, changed: 1 },
      keyValues: { added: 2, removed: 2 },
      numeric: [
        { name: "score", mean: { from: 2, to: 3, delta: 1 }, nullCount: { from: 1, to: 1, delta: 0 } },
        { name: "visits", mean: { from: 30, to: 15, delta: -15 }, nullCount: { from: 1, to: 2, delta: 1 } },
      ],
    });
    expect(await defs.diff("user_stats", { from: "previous", to: "current" })).toEqual(diff);
    expect(await defs.diff("user_stats", { from: a, to: b })).toEqual(diff);
  });

  test("the other direction mirrors it", async () => {
    const { a, b } = await twoBuilds();
    await using defs = userStats(SQL_B);
    const diff = await defs.diff("user_stats", { from: b, to: a });
    expect(diff.from).toMatchObject({ buildId: b, current: true });
    expect(diff.to).toMatchObject({ buildId: a, current: false });
    expect(diff.columns).toEqual({
      added: [{ name: "legacy", type: "VARCHAR" }],
      removed: [{ name: "region", type: "VARCHAR" }],
      retyped: [{ name: "visits", from: "DOUBLE", to: "INTEGER" }],
    });
    expect(diff.rows).toEqual({ added: 2, removed: 2, changed: 1 });
    expect(diff.keyValues).toEqual({ added: 2, removed: 2 });
    expect(diff.numeric).toEqual([
      { name: "score", mean: { from: 3, to: 2, delta: -1 }, nullCount: { from: 1, to: 1, delta: 0 } },
      { name: "visits", mean: { from: 15, to: 30, delta: 15 }, nullCount: { from: 2, to: 1, delta: -1 } },
    ]);
  });

  test("a build compared with itself has no differences", async () => {
    const { b } = await twoBuilds();
    await using defs = userStats(SQL_B);
    const diff = await defs.diff("user_stats", { from: "current", to: b });
    expect(diff.columns).toEqual({ added: [], removed: [], retyped: [] });
    expect(diff.rows).toEqual({ added: 0, removed: 0, changed: 0 });
    expect(diff.numeric.map(({ mean, nullCount }) => [mean.delta, nullCount.delta])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  test("with a timestamp, rows are (keys, timestamp): rows and keys differ; a numeric column only in one build has null on the other side", async () => {
    // A: (u1, 01-01) 5, (u1, 01-02) 6, (u2, 01-01) 7. B: (u1, 01-01) 4 (changed), (u1, 01-03) 8, (u3, 01-01) 9, and a bonus column.
    await using first = dailySpend("SELECT user_id, day::DATE AS day, spend::DOUBLE AS spend FROM $users");
    const a = await build(first, "daily_spend", "user_id,day,spend\nu1,2025-01-01,5\nu1,2025-01-02,6\nu2,2025-01-01,7\n");
    await using defs = dailySpend("SELECT user_id, day::DATE AS day, spend::DOUBLE AS spend, bonus::INTEGER AS bonus FROM $users");
    const b = await build(defs, "daily_spend", "user_id,day,spend,bonus\nu1,2025-01-01,4,1\nu1,2025-01-03,8,\nu3,2025-01-01,9,3\n");

    const diff = await defs.diff("daily_spend");
    expect([diff.from.buildId, diff.to.buildId]).toEqual([a, b]);
    expect([diff.keys, diff.timestamp]).toEqual([["user_id"], "day"]);
    expect(diff.columns).toEqual({ added: [{ name: "bonus", type: "INTEGER" }], removed: [], retyped: [] });
    // Rows (u1, 01-03) and (u3, 01-01) added, (u1, 01-02) and (u2, 01-01) removed, (u1, 01-01) changed;
    // keys: u3 added, u2 removed (u1 is in both).
    expect(diff.rows).toEqual({ added: 2, removed: 2, changed: 1 });
    expect(diff.keyValues).toEqual({ added: 1, removed: 1 });
    expect(diff.numeric).toEqual([
      { name: "spend", mean: { from: 6, to: 7, delta: 1 }, nullCount: { from: 0, to: 0, delta: 0 } },
      { name: "bonus", mean: { from: null, to: 2, delta: null }, nullCount: { from: null, to: 1, delta: null } },
    ]);

    const back = await defs.diff("daily_spend", { from: b, to: a });
    expect([back.rows, back.keyValues]).toEqual([
      { added: 2, removed: 2, changed: 1 },
      { added: 1, removed: 1 },
    ]);
    expect(back.numeric[1]).toEqual({ name: "bonus", mean: { from: 2, to: null, delta: null }, nullCount: { from: 1, to: null, delta: null } });
  });

  test("NaN and Infinity are left out of the mean; a key column whose type changed still matches rows", async () => {
    await using first = userStats("SELECT user_id::INTEGER AS user_id, score::DOUBLE AS score FROM $users");
    await build(first, "user_stats", "user_id,score\n1,1\n2,3\n");
    await using defs = userStats("SELECT user_id::VARCHAR AS user_id, score::DOUBLE AS score FROM $users");
    await build(defs, "user_stats", "user_id,score\n1,1\n2,NaN\n3,inf\n4,5\n");
    const diff = await defs.diff("user_stats");
    expect(diff.columns.retyped).toEqual([{ name: "user_id", from: "INTEGER", to: "VARCHAR" }]);
    // 1 and 2 are in both (2's score changed from 3 to NaN); 3 and 4 are new.
    expect(diff.rows).toEqual({ added: 2, removed: 0, changed: 1 });
    expect(diff.numeric).toEqual([{ name: "score", mean: { from: 2, to: 3, delta: 1 }, nullCount: { from: 0, to: 0, delta: 0 } }]);
  });

  test("rows are not matched when a key column is missing from one build", async () => {
    await using first = userStats("SELECT user_id, score::DOUBLE AS score FROM $users");
    await build(first, "user_stats", "user_id,score\nu1,1\n");
    const renamed = feature({ name: "user_stats", keys: ["customer_id"], source }, (users) => `SELECT user_id AS customer_id, score::DOUBLE AS score FROM ${users}`);
    await using defs = new Definitions({ name: "test", features: [renamed], offlineStore: new LocalStore(store()) });
    await build(defs, "user_stats", "user_id,score\nu1,1\nu2,3\n");
    const diff = await defs.diff("user_stats");
    expect(diff.keys).toEqual(["customer_id"]);
    expect(diff.columns).toEqual({ added: [{ name: "customer_id", type: "VARCHAR" }], removed: [{ name: "user_id", type: "VARCHAR" }], retyped: [] });
    expect([diff.rows, diff.keyValues]).toEqual([null, null]);
    expect(diff.numeric).toEqual([{ name: "score", mean: { from: 1, to: 2, delta: 1 }, nullCount: { from: 0, to: 0, delta: 0 } }]);
  });
});

describe("diff errors", () => {
  test("a feature never built", async () => {
    await using defs = userStats(SQL_A);
    await expect(defs.diff("user_stats")).rejects.toThrow(FeatureNotBuiltError);
  });

  test("a feature with one version only has nothing to compare with, and says how to keep more", async () => {
    await using defs = userStats(SQL_A);
    const a = await build(defs, "user_stats", CSV_A);
    const error = await defs.diff("user_stats").catch((caught: unknown) => caught);
    expect(PreviousVersionNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `Feature 'user_stats' has one version only (${a}, the current one): there is nothing to compare it with. ` +
        "Every build keeps a version (`keepVersions`: 10): build the feature again after a change (mlforge build --features user_stats) and compare then.",
    );
  });

  test.each([
    [1, "keepVersions: 1 keeps the current build alone: raise `keepVersions` in new Definitions({ … }) (10 is the default) and build again."],
    [0, "Versions are off (keepVersions: 0): set `keepVersions` in new Definitions({ … }) to 2 or more (10 is the default) and build again."],
  ])("with keepVersions %d two builds leave nothing to compare with, and the message says to raise it", async (keepVersions, advice) => {
    await using first = userStats(SQL_A, keepVersions);
    await build(first, "user_stats", CSV_A);
    await using defs = userStats(SQL_B, keepVersions);
    const b = await build(defs, "user_stats", CSV_B);
    await expect(defs.diff("user_stats")).rejects.toThrow(`Feature 'user_stats' has one version only (${b}, the current one): there is nothing to compare it with. ${advice}`);
  });

  test("after a rollback to the oldest version there is nothing before it; naming the builds still compares", async () => {
    const { a, b } = await twoBuilds();
    await using defs = userStats(SQL_B);
    await defs.rollback("user_stats", { to: "previous" });
    const error = await defs.diff("user_stats").catch((caught: unknown) => caught);
    expect(PreviousVersionNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `Feature 'user_stats' keeps no version older than the current one (${a}, restored by a rollback): there is nothing before it to compare with. ` +
        `Name the build to compare it with, one of: ${b} (mlforge diff user_stats ${a} ${b}).`,
    );
    const diff = await defs.diff("user_stats", { from: "current", to: b });
    expect([diff.from, diff.to]).toEqual([expect.objectContaining({ buildId: a, current: true }), expect.objectContaining({ buildId: b, current: false })]);
    expect(diff.rows).toEqual({ added: 2, removed: 2, changed: 1 });
  });

  test("an unknown version is FeatureVersionNotFoundError naming the kept ones", async () => {
    const { a, b } = await twoBuilds();
    await using defs = userStats(SQL_B);
    for (const options of [{ from: "0123456789abcdef" }, { to: "0123456789abcdef" }, { from: "last week" }]) {
      const error = await defs.diff("user_stats", options).catch((caught: unknown) => caught);
      expect(FeatureVersionNotFoundError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(`Kept versions, newest first: ${b}, ${a}.`);
    }
  });

  test("options are checked", async () => {
    await using defs = userStats(SQL_A);
    await expect(defs.diff("user_stats", { form: "previous" } as never)).rejects.toThrow(InvalidOptionError);
    await expect(defs.diff("user_stats", { from: 1 } as never)).rejects.toThrow("diff option 'from' must be a string");
    await expect(defs.diff("nope")).rejects.toThrow("Feature 'nope' is not defined");
  });
});
