import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildError, Definitions, feature, FeatureRollbackError, FeatureVersionNotFoundError, MlforgeError, type FeatureFrame, type OfflineStore } from "@mlforge/core";
import { dataKey, listFeatureNames, metadataKey, versionDataKey, versionMetadataKey, versionsPrefix } from "@mlforge/core/store-kit";
import { literal, query } from "@mlforge/test-support";

export { crashTestSuite, type CrashPoint, type CrashTestSuiteOptions, type TimedTestFunction } from "./crash-test-suite";
export { featureOfKey, interceptStore } from "./intercept-store";
export type { StoreDescription } from "./store-description";

/** The subset of Jest's (or Vitest's, or node:test's) `test` function that the suite needs. */
export type TestFunction = (name: string, body: () => Promise<void>) => unknown;

/** Makes a fresh, empty store for each test. */
export type StoreFactory = () => OfflineStore | Promise<OfflineStore>;

/** Rows of `sql` with `$file` standing for `file` as a SQL literal. */
async function readRows(file: string, sql: string): Promise<Record<string, unknown>[]> {
  return query(sql.replace("$file", literal(file)));
}

/** The features the store holds, as an array of this realm: Jest runs tests in a sandbox, where deepEqual would see a Node-realm array as another type. */
async function listed(store: OfflineStore): Promise<string[]> {
  return [...(await listFeatureNames(store))];
}

/** Runs `body` with a small transactions CSV in a temporary directory, removed afterwards. */
async function withTransactions(body: (transactions: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-suite-"));
  try {
    const transactions = path.join(directory, "transactions.csv");
    await writeFile(transactions, "user_id,amount\nu1,10.5\nu2,7\nu1,5\n");
    await body(transactions);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function totalSpend(source: string, sql = "SELECT user_id, sum(amount) AS total_spend FROM $src GROUP BY user_id ORDER BY user_id") {
  return feature({ name: "user_total_spend", keys: ["user_id"], source }, (relation) => sql.replace("$src", relation));
}

async function stagedParquet(store: OfflineStore, name: string, sql: string): Promise<string> {
  const staged = await store.stagingPath(dataKey(name));
  await readRows(staged, `COPY (${sql}) TO $file (FORMAT parquet)`);
  return staged;
}

/**
 * The compliance suite every offline store passes unchanged. Call it inside a test file:
 * `offlineStoreTestSuite(test, () => new MyStore(...))`. Each test gets a fresh store.
 */
export function offlineStoreTestSuite(test: TestFunction, createStore: StoreFactory): void {
  test("check() passes on a fresh store, which holds nothing", async () => {
    const store = await createStore();
    await store.check();
    assert.deepEqual(await listed(store), []);
    assert.equal(await store.getText(metadataKey("user_total_spend")), undefined);
    assert.equal(await store.getFile(dataKey("user_total_spend")), undefined);
    assert.equal(await store.head(dataKey("user_total_spend")), undefined);
    assert.equal(typeof store.capabilities.servesFilesInPlace, "boolean");
  });

  test("text objects round-trip, are replaced, and are listed by prefix", async () => {
    const store = await createStore();
    await store.putText(metadataKey("b_feature"), '{"v":1}\n');
    await store.putText(metadataKey("a_feature"), '{"v":"ä"}\n');
    await store.putText(metadataKey("b_feature"), '{"v":2}\n');
    await store.putText("_other/deep/x.json", "x");
    assert.equal(await store.getText(metadataKey("b_feature")), '{"v":2}\n');
    assert.equal(await store.getText(metadataKey("a_feature")), '{"v":"ä"}\n');
    assert.deepEqual(await listed(store), ["a_feature", "b_feature"]);
    assert.deepEqual([...(await store.list("_metadata/"))], ["_metadata/a_feature.json", "_metadata/b_feature.json"]);
    assert.deepEqual([...(await store.list("_other/"))], ["_other/deep/x.json"]);
    assert.deepEqual([...(await store.list("_nothing/"))], []);
  });

  test("head locates an object without reading it; copy and delete move whole objects", async () => {
    const store = await createStore();
    const staged = await stagedParquet(store, "numbers", "SELECT range AS n FROM range(10)");
    const bytes = await readFile(staged);
    const stored = await store.putFile(dataKey("numbers"), staged);
    const head = await store.head(dataKey("numbers"));
    assert.ok(head !== undefined);
    assert.equal(head.bytes, bytes.length);
    assert.equal(head.uri, stored.uri);
    if (stored.etag !== undefined) assert.equal(head.etag, stored.etag);

    const copied = await store.copy(dataKey("numbers"), "_versions/numbers/1.parquet");
    assert.equal(copied.bytes, bytes.length);
    assert.ok(copied.uri.endsWith("_versions/numbers/1.parquet"), `uri ${copied.uri} names the copy`);
    const copiedHead = await store.head("_versions/numbers/1.parquet");
    if (copied.etag !== undefined) assert.equal(copiedHead?.etag, copied.etag);
    assert.deepEqual(await readFile((await store.getFile("_versions/numbers/1.parquet"))!), bytes);
    await assert.rejects(async () => store.copy("_versions/numbers/missing.parquet", "_versions/numbers/2.parquet"), (error: unknown) => MlforgeError.isInstance(error));
    assert.equal(await store.head("_versions/numbers/2.parquet"), undefined);
    await store.delete(dataKey("numbers"));
    assert.equal(await store.head(dataKey("numbers")), undefined);
    assert.equal(await store.getFile(dataKey("numbers")), undefined);
    assert.deepEqual(await readFile((await store.getFile("_versions/numbers/1.parquet"))!), bytes);
    await store.delete(dataKey("numbers"));
    await store.close();
    await store.close();
  });

  test("a staged Parquet file is published byte for byte and replaces the previous version", async () => {
    const store = await createStore();
    const first = await stagedParquet(store, "numbers", "SELECT range AS n FROM range(10)");
    const firstBytes = await readFile(first);
    const stored = await store.putFile(dataKey("numbers"), first);
    assert.equal(stored.bytes, firstBytes.length);
    assert.ok(stored.uri.includes("numbers.parquet"), `uri ${stored.uri} names the feature file`);
    const readable = await store.getFile(dataKey("numbers"));
    assert.ok(readable !== undefined);
    assert.deepEqual(await readFile(readable), firstBytes);

    const second = await stagedParquet(store, "numbers", "SELECT range AS n FROM range(100, 105)");
    const secondBytes = await readFile(second);
    await store.putFile(dataKey("numbers"), second);
    const rows = await readRows((await store.getFile(dataKey("numbers")))!, "SELECT sum(n)::INTEGER AS total FROM read_parquet($file)");
    assert.deepEqual(rows, [{ total: 100 + 101 + 102 + 103 + 104 }]);
    assert.deepEqual(await readFile((await store.getFile(dataKey("numbers")))!), secondBytes);
  });

  test("a staged file that was never published is not visible as a feature", async () => {
    const store = await createStore();
    await stagedParquet(store, "hidden", "SELECT 1 AS n");
    assert.equal(await store.getFile(dataKey("hidden")), undefined);
    assert.deepEqual(await listed(store), []);
  });

  test("keys that could escape the store are refused (no path traversal)", async () => {
    const store = await createStore();
    for (const key of ["../escape", "a/../../b", "/absolute", "a b", "", "a//b"]) {
      await assert.rejects(async () => store.putText(key, "{}"), (error: unknown) => MlforgeError.isInstance(error));
      await assert.rejects(async () => store.stagingPath(key), (error: unknown) => MlforgeError.isInstance(error));
      await assert.rejects(async () => store.getText(key), (error: unknown) => MlforgeError.isInstance(error));
    }
  });

  test("Definitions builds into the store; values, metadata and skipping are right", async () => {
    const store = await createStore();
    await withTransactions(async (transactions) => {
      const definitions = new Definitions({ name: "suite", features: [totalSpend(transactions)], offlineStore: store });
      const result = await definitions.build();
      assert.deepEqual(result.built.map((entry) => [entry.name, entry.rows]), [["user_total_spend", 2]]);
      const file = await store.getFile(dataKey("user_total_spend"));
      assert.ok(file !== undefined);
      const rows = await readRows(file, "SELECT user_id, total_spend FROM read_parquet($file) ORDER BY user_id");
      assert.deepEqual(rows, [
        { user_id: "u1", total_spend: 15.5 },
        { user_id: "u2", total_spend: 7 },
      ]);
      const metadata = JSON.parse((await store.getText(metadataKey("user_total_spend")))!);
      assert.equal(metadata.rows, 2);
      assert.deepEqual(metadata.keys, ["user_id"]);
      assert.deepEqual(metadata.schema.map((column: { name: string }) => column.name), ["user_id", "total_spend"]);
      assert.equal(metadata.bytes, (await readFile(file)).length);
      assert.deepEqual(await listed(store), ["user_total_spend"]);

      const again = await definitions.build();
      assert.deepEqual(again.skipped.map((entry) => entry.name), ["user_total_spend"]);
    });
  });

  test("a failed build leaves the previous version byte for byte intact", async () => {
    const store = await createStore();
    await withTransactions(async (transactions) => {
      await new Definitions({ name: "suite", features: [totalSpend(transactions)], offlineStore: store }).build();
      const file = (await store.getFile(dataKey("user_total_spend")))!;
      const before = { data: await readFile(file), metadata: await store.getText(metadataKey("user_total_spend")) };

      const broken = totalSpend(transactions, "SELECT user_id, sum(no_such_column) AS total_spend FROM $src GROUP BY user_id");
      await assert.rejects(
        new Definitions({ name: "suite", features: [broken], offlineStore: store }).build({ force: true }),
        (error: unknown) => BuildError.isInstance(error) && /no_such_column/.test(error.message),
      );
      assert.deepEqual(await readFile((await store.getFile(dataKey("user_total_spend")))!), before.data);
      assert.equal(await store.getText(metadataKey("user_total_spend")), before.metadata);
      assert.deepEqual(await listed(store), ["user_total_spend"]);
    });
  });

  /** `user_total_spend` at `factor` times the amounts, so that each version's values tell it apart. */
  const scaled = (transactions: string, factor: number) => totalSpend(transactions, `SELECT user_id, sum(amount) * ${factor} AS total_spend FROM $src GROUP BY user_id ORDER BY user_id`);
  const rowsAt = (factor: number) => [
    { user_id: "u1", total_spend: 15.5 * factor },
    { user_id: "u2", total_spend: 7 * factor },
  ];
  async function frameRows(frame: Promise<FeatureFrame>): Promise<Record<string, unknown>[]> {
    const opened = await frame;
    try {
      return [...(await opened.rows())].map((row) => ({ ...row }));
    } finally {
      await opened.close();
    }
  }
  /** Builds `user_total_spend` once per factor (each a new definition), returning the build ids, oldest first. */
  async function buildVersions(store: OfflineStore, transactions: string, factors: readonly number[], options: { keepVersions?: number } = {}): Promise<string[]> {
    const ids: string[] = [];
    for (const factor of factors) {
      const definitions = new Definitions({ name: "suite", features: [scaled(transactions, factor)], offlineStore: store, ...options });
      assert.deepEqual((await definitions.build()).built.map((entry) => entry.name), ["user_total_spend"]);
      ids.push((await definitions.metadata("user_total_spend"))!.buildId);
    }
    return ids;
  }

  test("every build is kept as a version: its data byte for byte and its metadata document, listed newest first with the current one marked", async () => {
    const store = await createStore();
    await withTransactions(async (transactions) => {
      const ids = await buildVersions(store, transactions, [1, 2]);
      assert.deepEqual([...(await store.list(versionsPrefix("user_total_spend")))], ids.flatMap((id) => [versionMetadataKey("user_total_spend", id), versionDataKey("user_total_spend", id)]));
      const current = await readFile((await store.getFile(dataKey("user_total_spend")))!);
      assert.deepEqual(await readFile((await store.getFile(versionDataKey("user_total_spend", ids[1]!)))!), current);
      const kept = JSON.parse((await store.getText(versionMetadataKey("user_total_spend", ids[1]!)))!);
      assert.deepEqual({ buildId: kept.buildId, rows: kept.rows, bytes: kept.bytes }, { buildId: ids[1], rows: 2, bytes: current.length });

      const definitions = new Definitions({ name: "suite", features: [scaled(transactions, 2)], offlineStore: store });
      const versions = await definitions.versions("user_total_spend");
      assert.deepEqual(versions.map((version) => [version.buildId, version.current, version.rows]), [
        [ids[1], true, 2],
        [ids[0], false, 2],
      ]);
    });
  });

  test("a kept version reads back with its own values after newer builds", async () => {
    const store = await createStore();
    await withTransactions(async (transactions) => {
      const ids = await buildVersions(store, transactions, [1, 2, 3]);
      const definitions = new Definitions({ name: "suite", features: [scaled(transactions, 3)], offlineStore: store });
      assert.deepEqual(await frameRows(definitions.read("user_total_spend", { version: ids[0]! })), rowsAt(1));
      assert.deepEqual(await frameRows(definitions.read("user_total_spend", { version: ids[1]! })), rowsAt(2));
      assert.deepEqual(await frameRows(definitions.read("user_total_spend")), rowsAt(3));
    });
  });

  test("retention keeps exactly keepVersions versions, the newest, the current one included", async () => {
    const store = await createStore();
    await withTransactions(async (transactions) => {
      const ids = await buildVersions(store, transactions, [1, 2, 3, 4], { keepVersions: 2 });
      const kept = ids.slice(2);
      assert.deepEqual([...(await store.list(versionsPrefix("user_total_spend")))], kept.flatMap((id) => [versionMetadataKey("user_total_spend", id), versionDataKey("user_total_spend", id)]));
      const definitions = new Definitions({ name: "suite", features: [scaled(transactions, 4)], offlineStore: store, keepVersions: 2 });
      assert.deepEqual((await definitions.versions("user_total_spend")).map((version) => version.buildId), [...kept].reverse());
      await assert.rejects(definitions.read("user_total_spend", { version: ids[0]! }), (error: unknown) => FeatureVersionNotFoundError.isInstance(error));
    });
  });

  test("a rollback makes a kept version current: its values, metadata recording it, and the next build with its definition skips", async () => {
    const store = await createStore();
    await withTransactions(async (transactions) => {
      const ids = await buildVersions(store, transactions, [1, 2]);
      const later = new Definitions({ name: "suite", features: [scaled(transactions, 2)], offlineStore: store });
      await assert.rejects(later.rollback("user_total_spend", { to: ids[1]! }), (error: unknown) => FeatureRollbackError.isInstance(error) && /is the current one/.test(error.message));
      await assert.rejects(later.rollback("user_total_spend", { to: "0123456789abcdef" }), (error: unknown) => FeatureVersionNotFoundError.isInstance(error) && error.message.includes(`${ids[1]}, ${ids[0]}`));

      const result = await later.rollback("user_total_spend", { to: "previous" });
      assert.deepEqual([result.restored.buildId, result.replaced.buildId, result.dryRun], [ids[0], ids[1], false]);
      assert.deepEqual(await frameRows(later.read("user_total_spend")), rowsAt(1));
      const document = JSON.parse((await store.getText(metadataKey("user_total_spend")))!);
      assert.equal(document.buildId, ids[0]);
      assert.deepEqual([document.rollback?.restoredBuildId, document.rollback?.replacedBuildId], [ids[0], ids[1]]);
      assert.deepEqual((await later.versions("user_total_spend")).map((version) => [version.buildId, version.current]), [
        [ids[1], false],
        [ids[0], true],
      ]);

      const earlier = new Definitions({ name: "suite", features: [scaled(transactions, 1)], offlineStore: store });
      assert.deepEqual((await earlier.build()).skipped.map((entry) => entry.name), ["user_total_spend"]);
      assert.deepEqual((await later.build()).built.map((entry) => entry.name), ["user_total_spend"]);
      assert.deepEqual(await frameRows(later.read("user_total_spend")), rowsAt(2));
    });
  });
}
