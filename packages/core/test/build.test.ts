import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BuildError,
  Definitions,
  feature,
  FeatureBuildError,
  FeatureDefinitionError,
  FeatureNotFoundError,
  SourceNotFoundError,
  type BuildProgressEvent,
  type Feature,
} from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { query } from "@mlforge/test-support";

let directory: string;
let transactions: string;
let storePath: string;

const TRANSACTIONS = [
  "user_id,product_id,amount,event_time",
  "u1,p1,10.00,2025-01-01 09:00:00",
  "u1,p2,5.50,2025-01-01 18:00:00",
  "u2,p1,7.25,2025-01-02 12:00:00",
  "u1,p1,2.00,2025-01-03 08:00:00",
  "u3,p3,1.00,2025-01-03 10:00:00",
].join("\n");

function spend(sql = "SELECT user_id, sum(amount)::DOUBLE AS total_spend, count(*) AS purchases FROM {src} GROUP BY user_id") {
  return feature({ name: "user_total_spend", keys: ["user_id"], source: transactions, tags: ["users"] }, (source) => sql.replace("{src}", source));
}
function popularity() {
  return feature({ name: "product_popularity", keys: ["product_id"], source: transactions, tags: ["products"] }, (source) =>
    `SELECT product_id, count(*) AS purchases, count(DISTINCT user_id) AS buyers FROM ${source} GROUP BY product_id`,
  );
}
function daily() {
  return feature({ name: "user_daily_spend", keys: ["user_id"], timestamp: "day", source: transactions, tags: ["users"] }, (source) =>
    `SELECT user_id, date_trunc('day', event_time) AS day, sum(amount)::DOUBLE AS spend FROM ${source} GROUP BY ALL`,
  );
}

function definitions(features: Feature[]): Definitions {
  return new Definitions({ name: "test", features, offlineStore: new LocalStore(storePath) });
}

/** Every file in the store, path → bytes: a byte-for-byte picture to compare before and after. */
async function snapshot(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(storePath, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files.set(path.relative(storePath, file), await readFile(file));
    }
  }
  return files;
}

async function buildError(promise: Promise<unknown>): Promise<BuildError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BuildError);
  return error as BuildError;
}

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-build-"));
  transactions = path.join(directory, "transactions.csv");
  storePath = path.join(directory, "feature_store");
  await writeFile(transactions, TRANSACTIONS);
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("build", () => {
  test("writes each feature as Parquet with values computed by hand, and a metadata document", async () => {
    const result = await definitions([spend(), popularity(), daily()]).build();
    expect(result.built.map((entry) => [entry.name, entry.status, entry.rows])).toEqual([
      ["user_total_spend", "built", 3],
      ["product_popularity", "built", 3],
      ["user_daily_spend", "built", 4],
    ]);
    expect(result.failed).toEqual([]);
    expect((await readdir(storePath)).sort()).toEqual(["_metadata", "_versions", "product_popularity.parquet", "user_daily_spend.parquet", "user_total_spend.parquet"]);

    const file = path.join(storePath, "user_total_spend.parquet");
    expect(result.built[0]!.uri).toBe(file);
    expect(result.built[0]!.bytes).toBe((await readFile(file)).length);
    expect(await query(`SELECT user_id, total_spend, purchases::INTEGER AS purchases FROM '${file}' ORDER BY user_id`)).toEqual([
      { user_id: "u1", total_spend: 17.5, purchases: 3 },
      { user_id: "u2", total_spend: 7.25, purchases: 1 },
      { user_id: "u3", total_spend: 1, purchases: 1 },
    ]);
    expect(
      await query(`SELECT user_id, strftime(day, '%Y-%m-%d') AS day, spend FROM '${path.join(storePath, "user_daily_spend.parquet")}' ORDER BY ALL`),
    ).toEqual([
      { user_id: "u1", day: "2025-01-01", spend: 15.5 },
      { user_id: "u1", day: "2025-01-03", spend: 2 },
      { user_id: "u2", day: "2025-01-02", spend: 7.25 },
      { user_id: "u3", day: "2025-01-03", spend: 1 },
    ]);

    const metadata = JSON.parse(await readFile(path.join(storePath, "_metadata", "user_daily_spend.json"), "utf8"));
    expect(metadata).toMatchObject({
      name: "user_daily_spend",
      definitions: "test",
      keys: ["user_id"],
      timestamp: "day",
      source: transactions,
      rows: 4,
      tags: ["users"],
      schema: [
        { name: "user_id", type: "VARCHAR" },
        { name: "day", type: "TIMESTAMP" },
        { name: "spend", type: "DOUBLE" },
      ],
    });
    expect(metadata.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(metadata.sourceFiles).toEqual([expect.objectContaining({ path: transactions, size: TRANSACTIONS.length })]);
    expect(Date.parse(metadata.builtAt)).not.toBeNaN();
  });

  test("skips unchanged features, rebuilds what changed, and rebuilds everything with force", async () => {
    await definitions([spend(), popularity()]).build();
    const unchanged = await definitions([spend(), popularity()]).build();
    expect(unchanged.skipped.map((entry) => entry.name)).toEqual(["user_total_spend", "product_popularity"]);
    expect(unchanged.skipped[0]).toMatchObject({ status: "skipped", rows: 3 });

    const newSql = spend("SELECT user_id, sum(amount)::DOUBLE * 2 AS total_spend, count(*) AS purchases FROM {src} GROUP BY user_id");
    const changed = await definitions([newSql, popularity()]).build();
    expect(changed.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
    expect(changed.skipped.map((entry) => entry.name)).toEqual(["product_popularity"]);
    expect(await query(`SELECT total_spend FROM '${path.join(storePath, "user_total_spend.parquet")}' WHERE user_id = 'u1'`)).toEqual([{ total_spend: 35 }]);

    const later = new Date(Date.now() + 60_000);
    await utimes(transactions, later, later);
    const touched = await definitions([newSql, popularity()]).build();
    expect(touched.built.map((entry) => entry.name)).toEqual(["user_total_spend", "product_popularity"]);

    const forced = await definitions([newSql, popularity()]).build({ force: true });
    expect(forced.built.map((entry) => entry.name)).toEqual(["user_total_spend", "product_popularity"]);
    expect(forced.skipped).toEqual([]);
  });

  test("rebuilds a feature whose data file is gone even when its metadata says it is current", async () => {
    await definitions([spend()]).build();
    await rm(path.join(storePath, "user_total_spend.parquet"));
    const result = await definitions([spend()]).build();
    expect(result.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  });

  test("selects features by name, by tag, and through materialize()", async () => {
    const defs = definitions([spend(), popularity(), daily()]);
    expect((await defs.build({ features: ["product_popularity"] })).built.map((entry) => entry.name)).toEqual(["product_popularity"]);
    expect((await defs.build({ tags: ["users"] })).built.map((entry) => entry.name)).toEqual(["user_total_spend", "user_daily_spend"]);
    const again = await defs.materialize({ featureNames: ["user_total_spend"], force: true });
    expect(again.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
    expect((await readdir(path.join(storePath, "_metadata"))).sort()).toEqual(["product_popularity.json", "user_daily_spend.json", "user_total_spend.json"]);
  });

  test("reports progress as each feature starts and ends; the next feature computes while the previous one is published", async () => {
    const events: BuildProgressEvent[] = [];
    await definitions([spend(), popularity(), daily()]).build({ onProgress: (event) => events.push(event) });
    const order = events.map((event) => `${event.type} ${event.name}`);
    expect(order).toEqual([
      "start user_total_spend",
      "start product_popularity",
      "end user_total_spend",
      "start user_daily_spend",
      "end product_popularity",
      "end user_daily_spend",
    ]);
    expect(events.map((event) => [event.index, event.total])).toEqual([
      [0, 3],
      [1, 3],
      [0, 3],
      [2, 3],
      [1, 3],
      [2, 3],
    ]);
    const ends = events.filter((event) => event.type === "end");
    expect(ends.map((event) => event.type === "end" && event.result.status)).toEqual(["built", "built", "built"]);
  });

  test("a feature that fails while the previous one publishes does not disturb it, and results keep definition order", async () => {
    const broken = feature({ name: "broken", keys: ["user_id"], source: transactions }, (source) => `SELECT user_id, nope FROM ${source}`);
    const error = await buildError(definitions([spend(), broken, popularity()]).build());
    expect(error.result.built.map((entry) => entry.name)).toEqual(["user_total_spend", "product_popularity"]);
    expect(error.result.failed.map((entry) => entry.name)).toEqual(["broken"]);
    expect((await readdir(storePath)).sort()).toEqual(["_metadata", "_versions", "product_popularity.parquet", "user_total_spend.parquet"]);
  });

  test("records how a time-stamped feature's rows spread over its keys and time, counted by hand", async () => {
    await definitions([spend(), daily()]).build();
    const document = async (name: string) => JSON.parse(await readFile(path.join(storePath, "_metadata", `${name}.json`), "utf8")) as Record<string, unknown>;
    // Daily rows: u1 on Jan 1 and Jan 3, u2 on Jan 2, u3 on Jan 3. A row's key has 2, 2, 1, 1 rows: (2 + 2 + 1 + 1) / 4.
    expect((await document("user_daily_spend")).keyStats).toEqual({
      keys: 3,
      maxRowsPerKey: 2,
      rowWeightedRowsPerKey: 1.5,
      firstTime: "2025-01-01T00:00:00.000Z",
      lastTime: "2025-01-03T00:00:00.000Z",
    });
    // Without a timestamp there is one row per key: nothing to record.
    expect((await document("user_total_spend")).keyStats).toBeUndefined();
  });

  test("lists features with their stored metadata", async () => {
    const defs = definitions([spend(), popularity()]);
    await defs.build({ features: ["user_total_spend"] });
    const listing = await defs.list();
    expect(listing.map((entry) => [entry.feature.name, entry.metadata?.rows])).toEqual([
      ["user_total_spend", 3],
      ["product_popularity", undefined],
    ]);
    expect((await defs.metadata("user_total_spend"))?.keys).toEqual(["user_id"]);
  });

  test("stops at an aborted signal", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stopped by the user"));
    await expect(definitions([spend()]).build({ signal: controller.signal })).rejects.toThrow("stopped by the user");
  });
});

describe("bad input loses nothing", () => {
  let before: Map<string, Buffer>;

  beforeEach(async () => {
    await definitions([spend(), popularity()]).build();
    before = await snapshot();
  });

  afterEach(async () => {
    // Byte for byte: the previously built features and their metadata, and no temporary file left behind.
    expect(await snapshot()).toEqual(before);
  });

  test("an unknown feature in a selection fails before anything is built, listing the available names", async () => {
    const defs = definitions([spend(), popularity()]);
    await expect(defs.build({ features: ["user_spend"], force: true })).rejects.toThrow(FeatureNotFoundError);
    await expect(defs.build({ features: ["user_spend"], force: true })).rejects.toThrow(
      "Feature 'user_spend' is not defined. Available: user_total_spend, product_popularity.",
    );
  });

  test("duplicate feature names are refused", () => {
    const twin = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) => `SELECT * FROM ${source}`);
    expect(() => definitions([spend(), twin])).toThrow(FeatureDefinitionError);
    expect(() => definitions([spend(), twin])).toThrow("Feature name 'user_total_spend' is defined twice");
  });

  test("a missing source file names the path", async () => {
    const missing = path.join(directory, "nope.parquet");
    const broken = feature({ name: "user_total_spend", keys: ["user_id"], source: missing }, (source) => `SELECT * FROM ${source}`);
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.result.failed[0]?.error).toBeInstanceOf(SourceNotFoundError);
    expect(error.message).toContain(missing);
  });

  test("an empty glob is a missing source", async () => {
    const broken = feature({ name: "user_total_spend", keys: ["user_id"], source: path.join(directory, "2031-*.csv") }, (source) => `SELECT * FROM ${source}`);
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.result.failed[0]?.error).toBeInstanceOf(SourceNotFoundError);
  });

  test("a SQL error carries the engine's message and does not stop the other features", async () => {
    const broken = spend("SELECT user_id, sum(amount_usd) AS total_spend FROM {src} GROUP BY user_id");
    const error = await buildError(definitions([broken, popularity()]).build({ force: true }));
    expect(error.result.failed.map((entry) => entry.name)).toEqual(["user_total_spend"]);
    expect(error.result.built.map((entry) => entry.name)).toEqual(["product_popularity"]);
    const failure = error.result.failed[0]!.error!;
    expect(failure).toBeInstanceOf(FeatureBuildError);
    expect(failure.message).toMatch(/^Feature 'user_total_spend' failed to build: Binder Error: .*amount_usd/);
    // The good feature was rebuilt: its files (and kept versions) may change, the failed one's must not.
    const withoutPopularity = (files: Map<string, Buffer>) =>
      new Map([...files].filter(([file]) => file !== "product_popularity.parquet" && file !== path.join("_metadata", "product_popularity.json") && !file.startsWith(path.join("_versions", "product_popularity"))));
    before = withoutPopularity(before);
    const after = withoutPopularity(await snapshot());
    expect(after).toEqual(before);
    before = await snapshot();
  });

  test("a missing key column is named", async () => {
    const broken = spend("SELECT sum(amount) AS total_spend FROM {src}");
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.result.failed[0]?.error?.message).toBe(
      "Feature 'user_total_spend' failed to build: its output has no key column 'user_id'. Output columns: total_spend. Make the transform's SELECT return 'user_id'.",
    );
  });

  test("a missing timestamp column is named", async () => {
    const broken = feature({ name: "user_total_spend", keys: ["user_id"], timestamp: "day", source: transactions }, (source) =>
      `SELECT user_id, sum(amount) AS total_spend FROM ${source} GROUP BY user_id`,
    );
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.message).toContain("its output has no timestamp column 'day'");
  });

  test("a transform that throws", async () => {
    const broken = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, () => {
      throw new Error("config file missing");
    });
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.result.failed[0]?.error).toBeInstanceOf(FeatureBuildError);
    expect(error.message).toContain("Feature 'user_total_spend' failed to build: its transform threw: config file missing");
  });

  test("a transform that returns something other than a query", async () => {
    const broken = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (() => 42) as never);
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.message).toContain("its transform returned number instead of a SQL query");
  });

  test("duplicate keys show one offending key", async () => {
    const broken = spend("SELECT user_id, amount AS total_spend FROM {src}");
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.message).toContain("its output has 3 rows for user_id='u1'; it must have one row per user_id");
  });

  test("null keys are refused", async () => {
    const broken = spend("SELECT CASE WHEN user_id = 'u2' THEN NULL ELSE user_id END AS user_id, sum(amount) AS total_spend FROM {src} GROUP BY 1");
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.message).toContain("its output has a row whose key column 'user_id' is NULL");
  });

  test("rows must be unique per key and timestamp for a time-stamped feature", async () => {
    const broken = feature({ name: "user_total_spend", keys: ["user_id"], timestamp: "day", source: transactions }, (source) =>
      `SELECT user_id, date_trunc('day', event_time) AS day, amount FROM ${source}`,
    );
    const error = await buildError(definitions([broken]).build({ force: true }));
    expect(error.message).toMatch(/its output has 2 rows for user_id='u1', day=2025-01-01T00:00:00.000Z/);
  });
});
