import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  Definitions,
  EntityRowsMismatchError,
  feature,
  FeatureVersionNotFoundError,
  SourceNotFoundError,
  TrainingDataError,
  type Entities,
  type FeatureFrame,
  type TrainingManifest,
} from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { literal, query } from "@mlforge/test-support";
import { entityFingerprintSql } from "../src/training-manifest";

let directory: string;
let transactions: string;
let labels: string;
let store: string;

// u1 buys on 01-01 (10 + 5) and 01-03 (20); u2 on 01-02 (7). Times are UTC.
const firstTransactions = `user_id,event_time,amount
u1,2025-01-01 09:00:00,10
u1,2025-01-01 18:00:00,5
u2,2025-01-02 12:00:00,7
u1,2025-01-03 08:00:00,20
`;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-manifest-"));
  transactions = path.join(directory, "transactions.csv");
  store = path.join(directory, "store");
  await writeFile(transactions, firstTransactions);
  labels = path.join(directory, "labels.parquet");
  // Out of time order; u3 has no purchases; u2's label is before its first purchase.
  await query(`COPY (SELECT * FROM (VALUES
      ('u1', TIMESTAMP '2025-01-02 00:00:00', 1),
      ('u2', TIMESTAMP '2025-01-01 00:00:00', 0),
      ('u1', TIMESTAMP '2025-01-03 12:00:00', 0),
      ('u3', TIMESTAMP '2025-01-04 00:00:00', 1),
      ('u2', TIMESTAMP '2025-01-05 00:00:00', 1)
    ) AS t(user_id, event_time, label)) TO ${literal(labels)} (FORMAT parquet)`);
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const features = () => [
  feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) => `SELECT user_id, sum(amount)::DOUBLE AS total_spend FROM ${source} GROUP BY user_id`),
  feature({ name: "user_daily_spend", keys: ["user_id"], timestamp: "day", source: transactions }, (source) =>
    `SELECT user_id, date_trunc('day', event_time)::TIMESTAMP AS day, sum(amount)::DOUBLE AS spend FROM ${source} GROUP BY ALL`,
  ),
];

/** Definitions over the test's LocalStore; builds keep their versions (`keepVersions`, default 10). */
function definitions(options: { keepVersions?: number } = {}): Definitions {
  return new Definitions({ name: "manifest-test", features: features(), offlineStore: new LocalStore(store), ...options });
}

/** Builds both features; their build ids. */
async function build(defs: Definitions): Promise<Record<string, string>> {
  await defs.build();
  const ids: Record<string, string> = {};
  for (const name of ["user_total_spend", "user_daily_spend"]) ids[name] = (await defs.metadata(name))!.buildId;
  return ids;
}

async function rowsOf(frame: FeatureFrame): Promise<Record<string, unknown>[]> {
  try {
    return await frame.rows();
  } finally {
    await frame.close();
  }
}

async function writeTrainingSet(defs: Definitions, file: string, options: { entities?: Entities; plan?: "asof" | "rank" } = {}): Promise<TrainingManifest> {
  const frame = await defs.getTrainingData({ features: ["user_total_spend", "user_daily_spend"], entities: options.entities ?? labels, timestamp: "event_time", ...(options.plan === undefined ? {} : { plan: options.plan }) });
  try {
    await frame.writeParquet(file);
    return frame.manifest!;
  } finally {
    await frame.close();
  }
}

async function footerOf(file: string): Promise<unknown> {
  const [row] = await query(`SELECT decode(value) AS document FROM parquet_kv_metadata(${literal(file)}) WHERE decode(key) = 'mlforge_training'`);
  return row === undefined ? undefined : JSON.parse(row.document as string);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    async (value) => {
      await (value as FeatureFrame | undefined)?.close?.();
      return undefined;
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

// By hand from firstTransactions: total_spend is lifetime (no timestamp); spend is the latest day at
// or before event_time.
const firstRows = [
  { user_id: "u1", event_time: new Date("2025-01-02T00:00:00Z"), label: 1, total_spend: 35, spend: 15 },
  { user_id: "u2", event_time: new Date("2025-01-01T00:00:00Z"), label: 0, total_spend: 7, spend: null },
  { user_id: "u1", event_time: new Date("2025-01-03T12:00:00Z"), label: 0, total_spend: 35, spend: 20 },
  { user_id: "u3", event_time: new Date("2025-01-04T00:00:00Z"), label: 1, total_spend: null, spend: null },
  { user_id: "u2", event_time: new Date("2025-01-05T00:00:00Z"), label: 1, total_spend: 7, spend: 7 },
];

describe("the manifest of a training frame", () => {
  test("records each feature's build, fingerprint, rows and plan, the entity rows and the timestamp column; writeParquet puts it in the footer", async () => {
    await using defs = definitions();
    await defs.build();
    const total = (await defs.metadata("user_total_spend"))!;
    const daily = (await defs.metadata("user_daily_spend"))!;
    const file = path.join(directory, "train.parquet");
    await using frame = await defs.getTrainingData({ features: ["user_total_spend", "user_daily_spend"], entities: labels, timestamp: "event_time" });
    expect(frame.manifest).toEqual({
      formatVersion: 1,
      features: [
        { name: "user_total_spend", buildId: total.buildId, fingerprint: total.fingerprint, rows: 2, plan: "keys" },
        // 3 feature rows of 2 keys for 5 entity rows: a handful of pairs, so "auto" joins by rank (see choosePlan).
        { name: "user_daily_spend", buildId: daily.buildId, fingerprint: daily.fingerprint, rows: 3, plan: "rank" },
      ],
      entities: {
        rows: 5,
        columns: [
          { name: "user_id", type: "VARCHAR" },
          { name: "event_time", type: "TIMESTAMP" },
          { name: "label", type: "INTEGER" },
        ],
        fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
      timestamp: "event_time",
      duckdb: expect.stringMatching(/^v\d+\.\d+\.\d+/),
    });
    expect(Object.isFrozen(frame.manifest) && Object.isFrozen(frame.manifest!.features[0])).toBe(true);

    await frame.writeParquet(file);
    expect(await footerOf(file)).toEqual(frame.manifest);
    expect(await rowsOf(await defs.getTrainingData({ features: ["user_total_spend", "user_daily_spend"], entities: labels, timestamp: "event_time" }))).toEqual(firstRows);
    // The data is the training set alone: the manifest is footer metadata, not a column.
    expect((await query(`SELECT * FROM read_parquet(${literal(file)})`)).map((row) => Object.keys(row))[0]).toEqual(["user_id", "event_time", "label", "total_spend", "spend"]);
  });

  test("records the plan actually used: a forced ASOF plan (auto would rank), and none for a read or a CSV", async () => {
    await using defs = definitions();
    await defs.build();
    await using frame = await defs.getTrainingData({ features: ["user_daily_spend"], entities: labels, timestamp: "event_time", plan: "asof" });
    expect(frame.manifest?.features.map(({ name, plan }) => [name, plan])).toEqual([["user_daily_spend", "asof"]]);

    await using read = await defs.read("user_daily_spend");
    expect(read.manifest).toBeUndefined();
    const readOut = path.join(directory, "read.parquet");
    await read.writeParquet(readOut);
    expect(await footerOf(readOut)).toBeUndefined();

    const csv = path.join(directory, "train.csv");
    await frame.writeCsv(csv);
    expect((await readFile(csv)).toString().split("\n")[0]).toBe("user_id,event_time,label,spend");
  });

  test("the entity fingerprint covers row order, values, which column holds a value, and column names and types", async () => {
    await using defs = definitions();
    await defs.build({ features: ["user_total_spend"] });
    const fingerprint = async (entities: Entities) => {
      await using frame = await defs.getTrainingData({ features: ["user_total_spend"], entities });
      return frame.manifest!.entities.fingerprint;
    };
    const base = await fingerprint([
      { user_id: "u1", a: 1, b: "x" },
      { user_id: "u2", a: 2, b: "y" },
    ]);
    expect(await fingerprint([{ user_id: "u1", a: 1, b: "x" }, { user_id: "u2", a: 2, b: "y" }])).toBe(base);
    const variants = await Promise.all(
      [
        // The rows swapped.
        [{ user_id: "u2", a: 2, b: "y" }, { user_id: "u1", a: 1, b: "x" }],
        // One value changed; one set to null.
        [{ user_id: "u1", a: 1, b: "x" }, { user_id: "u2", a: 3, b: "y" }],
        [{ user_id: "u1", a: 1, b: "x" }, { user_id: "u2", a: null, b: "y" }],
        // b swapped between the rows while a equals the row number (a plain XOR of hashes misses it).
        [{ user_id: "u1", a: 1, b: "y" }, { user_id: "u2", a: 2, b: "x" }],
        // The values of two columns of one type swapped within a row.
        [{ user_id: "x", a: 1, b: "u1" }, { user_id: "u2", a: 2, b: "y" }],
        // A column renamed; a number as a double.
        [{ user_id: "u1", c: 1, b: "x" }, { user_id: "u2", c: 2, b: "y" }],
        [{ user_id: "u1", a: 1.5, b: "x" }, { user_id: "u2", a: 2, b: "y" }],
        // A row added.
        [{ user_id: "u1", a: 1, b: "x" }, { user_id: "u2", a: 2, b: "y" }, { user_id: "u2", a: 2, b: "y" }],
      ].map((rows) => fingerprint(rows)),
    );
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });
});

describe("pinning versions", () => {
  test("features take { name, version }: a kept build's values, beside plain names", async () => {
    await using defs = definitions();
    const first = await build(defs);
    await writeFile(transactions, `${firstTransactions}u2,2025-01-04 10:00:00,100\n`);
    await build(defs);

    await using pinned = await defs.getTrainingData({ features: ["user_total_spend", { name: "user_daily_spend", version: first.user_daily_spend! }], entities: labels, timestamp: "event_time" });
    expect(pinned.manifest?.features.map(({ name, buildId }) => [name, buildId])).toEqual([
      ["user_total_spend", (await defs.metadata("user_total_spend"))!.buildId],
      ["user_daily_spend", first.user_daily_spend],
    ]);
    // The current total (u2: 107) beside the pinned daily spend (no 100 on 01-04).
    expect((await pinned.rows()).map(({ total_spend, spend }) => [total_spend, spend])).toEqual([
      [35, 15],
      [107, null],
      [35, 20],
      [null, null],
      [107, 7],
    ]);
  });

  test("bad feature entries and an unknown version are clear errors", async () => {
    await using defs = definitions();
    await defs.build();
    const base = { entities: labels, timestamp: "event_time" };
    for (const [entry, message] of [
      [{ name: "user_daily_spend", version: 5 }, `'features' holds {"name":"user_daily_spend","version":5}. List feature names, or { name, version } to pin a kept build`],
      [{ name: "user_daily_spend", build: "x" }, `holds {"name":"user_daily_spend","build":"x"}`],
      [{ version: "abc" }, `holds {"version":"abc"}`],
    ] as const) {
      const error = await failure(defs.getTrainingData({ ...base, features: [entry as never] }));
      expect(TrainingDataError.isInstance(error)).toBe(true);
      expect(error.message).toContain(message);
    }
    expect((await failure(defs.getTrainingData({ ...base, features: ["user_daily_spend", { name: "user_daily_spend" }] }))).message).toBe(
      "Feature 'user_daily_spend' is listed twice in 'features'. List each feature once.",
    );
    const unknown = await failure(defs.getTrainingData({ ...base, features: [{ name: "user_daily_spend", version: "0123456789abcdef" }] }));
    expect(FeatureVersionNotFoundError.isInstance(unknown)).toBe(true);
    expect(unknown.message).toContain("Feature 'user_daily_spend' has no version '0123456789abcdef'");
  });
});

describe("reproducing a training set", () => {
  test("after the source changed and two rebuilds: the same rows, values and Parquet bytes, from the pinned builds", async () => {
    await using defs = definitions();
    const first = await build(defs);
    const train = path.join(directory, "train.parquet");
    const manifest = await writeTrainingSet(defs, train);

    await writeFile(transactions, `${firstTransactions}u2,2025-01-04 10:00:00,100\nu3,2025-01-01 00:00:00,1\n`);
    const second = await build(defs);
    await writeFile(transactions, firstTransactions.replace("u1,2025-01-01 09:00:00,10", "u1,2025-01-01 09:00:00,11"));
    const third = await build(defs);
    expect(new Set([first.user_daily_spend, second.user_daily_spend, third.user_daily_spend]).size).toBe(3);
    expect((await defs.versions("user_daily_spend")).map(({ buildId, current }) => [buildId, current])).toEqual([
      [third.user_daily_spend, true],
      [second.user_daily_spend, false],
      [first.user_daily_spend, false],
    ]);
    // The current builds give other values, so reproducing is not the same as joining again.
    expect(await rowsOf(await defs.getTrainingData({ features: ["user_total_spend", "user_daily_spend"], entities: labels, timestamp: "event_time" }))).not.toEqual(firstRows);

    const again = path.join(directory, "again.parquet");
    await using frame = await defs.getTrainingData({ reproduce: train, entities: labels });
    expect(frame.manifest).toEqual(manifest);
    await frame.writeParquet(again);

    expect(await query(`SELECT * FROM read_parquet(${literal(again)})`)).toEqual(await query(`SELECT * FROM read_parquet(${literal(train)})`));
    for (const [a, b] of [[train, again], [again, train]]) {
      expect(await query(`SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_parquet(${literal(a!)}) EXCEPT ALL SELECT * FROM read_parquet(${literal(b!)}))`)).toEqual([{ n: 0 }]);
    }
    expect(await rowsOf(frame)).toEqual(firstRows);
    // DuckDB writes the same bytes for the same rows and footer (checked at 1M rows, 1 and 2 threads).
    expect((await readFile(again)).equals(await readFile(train))).toBe(true);
  });

  test("uses the manifest's plan and timestamp column, not a new choice", async () => {
    await using defs = definitions();
    await defs.build();
    const train = path.join(directory, "train.parquet");
    // "auto" would join these by rank (see the first test).
    const manifest = await writeTrainingSet(defs, train, { plan: "asof" });
    await using frame = await defs.getTrainingData({ reproduce: train, entities: labels });
    expect(frame.manifest).toEqual(manifest);
    expect(frame.manifest?.features[1]?.plan).toBe("asof");
    expect(frame.manifest?.timestamp).toBe("event_time");
    expect(await frame.rows()).toEqual(firstRows);
  });

  test("a training set made after a rollback pins the restored build, and reproduces after the next build", async () => {
    await using defs = definitions();
    const first = await build(defs);
    await writeFile(transactions, `${firstTransactions}u2,2025-01-04 10:00:00,100\n`);
    await build(defs);
    await defs.rollback("user_daily_spend", { to: "previous" });
    const train = path.join(directory, "train.parquet");
    const manifest = await writeTrainingSet(defs, train);
    expect(manifest.features[1]?.buildId).toBe(first.user_daily_spend);

    await build(defs);
    await using frame = await defs.getTrainingData({ reproduce: train, entities: labels });
    expect(frame.manifest).toEqual(manifest);
    const again = path.join(directory, "again.parquet");
    await frame.writeParquet(again);
    expect((await readFile(again)).equals(await readFile(train))).toBe(true);
  });

  test("entity rows given as objects reproduce from the same objects", async () => {
    await using defs = definitions();
    await defs.build();
    const entities = firstRows.map(({ user_id, event_time, label }) => ({ user_id, event_time, label }));
    const train = path.join(directory, "objects.parquet");
    const manifest = await writeTrainingSet(defs, train, { entities });
    await using frame = await defs.getTrainingData({ reproduce: train, entities: entities.map((row) => ({ ...row })) });
    expect(frame.manifest).toEqual(manifest);
  });

  test("a build that retention removed is an error naming the feature, the build and keepVersions", async () => {
    await using defs = definitions({ keepVersions: 1 });
    await defs.build();
    // Both features read the changed source, so both are rebuilt; the first one pinned is named.
    const { buildId } = (await defs.metadata("user_total_spend"))!;
    const train = path.join(directory, "train.parquet");
    await writeTrainingSet(defs, train);
    await writeFile(transactions, `${firstTransactions}u2,2025-01-04 10:00:00,100\n`);
    await defs.build();

    const error = await failure(defs.getTrainingData({ reproduce: train, entities: labels }));
    expect(FeatureVersionNotFoundError.isInstance(error)).toBe(true);
    expect(error.message).toContain(`Feature 'user_total_spend' has no version '${buildId}'`);
    expect(error.message).toContain(`Kept versions, newest first: ${(await defs.metadata("user_total_spend"))!.buildId}. A version older than these was removed by retention: raise \`keepVersions\``);
  });

  test("changed entity rows are an error naming the fingerprints and what differs", async () => {
    await using defs = definitions();
    await defs.build();
    const train = path.join(directory, "train.parquet");
    const manifest = await writeTrainingSet(defs, train);
    const expected = manifest.entities.fingerprint;

    const reordered = path.join(directory, "reordered.parquet");
    await query(`COPY (SELECT * FROM read_parquet(${literal(labels)}) ORDER BY event_time) TO ${literal(reordered)} (FORMAT parquet)`);
    const fewer = path.join(directory, "fewer.parquet");
    await query(`COPY (SELECT * FROM read_parquet(${literal(labels)}) LIMIT 4) TO ${literal(fewer)} (FORMAT parquet)`);
    const retyped = path.join(directory, "retyped.parquet");
    await query(`COPY (SELECT user_id, event_time, label::BIGINT AS label FROM read_parquet(${literal(labels)})) TO ${literal(retyped)} (FORMAT parquet)`);

    for (const [entities, what] of [
      [reordered, "Columns and row count (5) are the same, so values or the rows' order differ."],
      [fewer, "The training set had 5 entity rows; these are 4."],
      [retyped, "Their columns differ: the training set's were user_id VARCHAR, event_time TIMESTAMP, label INTEGER; these are user_id VARCHAR, event_time TIMESTAMP, label BIGINT."],
    ] as const) {
      const error = await failure(defs.getTrainingData({ reproduce: train, entities }));
      expect(EntityRowsMismatchError.isInstance(error) && TrainingDataError.isInstance(error)).toBe(true);
      const { actual } = error as EntityRowsMismatchError;
      expect(actual).not.toBe(expected);
      expect(error.message).toBe(
        `The entity rows are not those training set '${train}' was made from: entity fingerprint expected ${expected}, got ${actual}. ${what} ` +
          "Pass the same entity rows, in the same order, as when the training set was written.",
      );
    }
  });

  test("a file without a manifest, a missing file and a damaged manifest say so; reproduce takes no features", async () => {
    await using defs = definitions();
    await defs.build();
    const plain = path.join(directory, "plain.parquet");
    await query(`COPY (SELECT 1 AS x) TO ${literal(plain)} (FORMAT parquet)`);
    const noManifest = await failure(defs.getTrainingData({ reproduce: plain, entities: labels }));
    expect(TrainingDataError.isInstance(noManifest)).toBe(true);
    expect(noManifest.message).toBe(
      `Training set '${plain}' has no mlforge manifest in its Parquet footer (key 'mlforge_training'), so it cannot be reproduced. ` +
        "Only Parquet files written by frame.writeParquet() of a getTrainingData() frame (or `mlforge training-data --out x.parquet`) carry one; CSV files and files written by other tools do not.",
    );

    const missing = await failure(defs.getTrainingData({ reproduce: "nowhere/train.parquet", entities: labels }));
    expect(SourceNotFoundError.isInstance(missing)).toBe(true);
    expect(missing.message).toContain("Training set 'nowhere/train.parquet' does not exist");

    const damaged = path.join(directory, "damaged.parquet");
    await query(`COPY (SELECT 1 AS x) TO ${literal(damaged)} (FORMAT parquet, KV_METADATA {mlforge_training: '{"formatVersion":1,"features":[{"name":"user_daily_spend","buildId":"../x"}]}'})`);
    expect((await failure(defs.getTrainingData({ reproduce: damaged, entities: labels }))).message).toBe(
      `The mlforge manifest in the footer of training set '${damaged}' cannot be used: features[0].buildId is not a build id.`,
    );

    const both = await failure(defs.getTrainingData({ reproduce: plain, entities: labels, features: ["user_total_spend"] } as never));
    expect(both.message).toBe(
      "getTrainingData with 'reproduce' takes the features, their versions, the timestamp column and the join plans from the training set's manifest: drop 'features'.",
    );
  });
});

describe("the entity fingerprint", () => {
  test("numbers a Parquet file's rows by position as row_number() does, over many row groups read in parallel", async () => {
    const file = path.join(directory, "many-groups.parquet");
    await query(`COPY (SELECT i % 977 AS user_id, TIMESTAMP '2025-01-01' + to_seconds(i) AS event_time, i % 3 = 0 AS label FROM range(300000) AS t(i))
      TO ${literal(file)} (FORMAT parquet, ROW_GROUP_SIZE 10000)`);
    const relation = `read_parquet([${literal(file)}])`;
    const columns = [
      { name: "user_id", type: "BIGINT" },
      { name: "event_time", type: "TIMESTAMP" },
      { name: "label", type: "BOOLEAN" },
    ];
    const [byRowNumber] = await query(entityFingerprintSql(relation, columns));
    const [byPosition] = await query(entityFingerprintSql(relation, columns, file));
    expect(byPosition).toEqual(byRowNumber);
    expect(Number(byPosition?.row_count)).toBe(300000);
    // The position is in the hash: the same rows in another order hash differently.
    const shuffled = path.join(directory, "shuffled.parquet");
    await query(`COPY (SELECT * FROM ${relation} ORDER BY hash(user_id, event_time)) TO ${literal(shuffled)} (FORMAT parquet, ROW_GROUP_SIZE 10000)`);
    const [other] = await query(entityFingerprintSql(`read_parquet([${literal(shuffled)}])`, columns, shuffled));
    expect(other?.row_hash).not.toBe(byRowNumber?.row_hash);
  });
});
