import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildError, Definitions, feature, MlforgeError, type OfflineStore } from "@mlforge/core";
import { dataKey, listFeatureNames, metadataKey } from "@mlforge/core/store-kit";
import { literal, query } from "./query";

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

function totalSpend(source: string, sql = "SELECT user_id, sum(amount) AS total_spend FROM $src GROUP BY user_id") {
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

    await store.copy(dataKey("numbers"), "_versions/numbers/1.parquet");
    assert.deepEqual(await readFile((await store.getFile("_versions/numbers/1.parquet"))!), bytes);
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
}
