// Failing builds, reads and training-data calls leave nothing open and nothing behind: every DuckDB
// database (and extra connection) they open is closed, and their staged and temporary files are
// removed. (source-provider.test.ts covers the download directories of remote sources.)
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, MlforgeError, StoreAccessError, type Feature, type OfflineStore } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { interceptStore } from "@mlforge/store-test-suite";
import { Engine } from "../src/engine";

let directory: string;
let storePath: string;
let temporary: string;
let transactions: string;
const engines = { opened: 0, closed: 0 };

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-hygiene-"));
  storePath = path.join(directory, "store");
  temporary = path.join(directory, "tmp");
  await mkdir(temporary);
  transactions = path.join(directory, "transactions.csv");
  await writeFile(transactions, "user_id,amount,event_time\nu1,10.5,2025-01-01\nu2,7,2025-01-02\nu1,5,2025-01-03\n");
  engines.opened = 0;
  engines.closed = 0;
  const open = Engine.open.bind(Engine);
  jest.spyOn(Engine, "open").mockImplementation(async (options) => {
    const engine = await open(options);
    engines.opened++;
    return engine;
  });
  const fork = Engine.prototype.fork;
  jest.spyOn(Engine.prototype, "fork").mockImplementation(async function (this: Engine) {
    const engine = await fork.call(this);
    engines.opened++;
    return engine;
  });
  const close = Engine.prototype.close;
  jest.spyOn(Engine.prototype, "close").mockImplementation(function (this: Engine) {
    close.call(this);
    engines.closed++;
  });
});

afterEach(async () => {
  jest.restoreAllMocks();
  await rm(directory, { recursive: true, force: true });
});

function spend(sql = "SELECT user_id, sum(amount) AS total_spend FROM {src} GROUP BY user_id"): Feature {
  return feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (relation) => sql.replace("{src}", relation));
}

function definitions(features: Feature[], offlineStore: OfflineStore = new LocalStore(storePath)): Definitions {
  return new Definitions({ name: "hygiene", features, offlineStore, engine: { tempDirectory: temporary } });
}

async function fails(work: () => Promise<unknown>): Promise<Error> {
  const error = await work().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(MlforgeError.isInstance(error)).toBe(true);
  return error as Error;
}

/** Every file under the store and the engine's temporary directory. */
async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  for (const root of [storePath, temporary]) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isFile()) found.push(path.relative(directory, path.join(entry.parentPath, entry.name)));
  }
  return found.sort();
}

/** A LocalStore whose `operation` fails, as a full disk or a revoked permission would. */
function failingStore(operation: "putFile" | "putText"): OfflineStore {
  const full = () => Promise.reject(new StoreAccessError("The disk is full."));
  return interceptStore<OfflineStore>(new LocalStore(storePath), { [operation]: full });
}

test("failing builds close every database and leave no staged file", async () => {
  const broken = [
    spend("SELECT user_id, sum(no_such_column) AS total_spend FROM {src} GROUP BY user_id"),
    spend("SELECT user_id, CAST(user_id AS INTEGER) AS total_spend FROM {src} GROUP BY user_id"),
    spend("SELECT user_id, amount AS total_spend FROM {src}"),
    feature({ name: "user_total_spend", keys: ["user_id"], source: path.join(directory, "missing.csv") }, (relation) => `SELECT * FROM ${relation}`),
  ];
  for (const item of broken) await fails(() => definitions([item]).build());
  for (const operation of ["putFile", "putText"] as const) {
    const error = await fails(() => definitions([spend()], failingStore(operation)).build({ force: true }));
    expect(error.message).toContain("The disk is full.");
  }
  expect(engines.opened).toBeGreaterThanOrEqual(broken.length + 2);
  expect(engines.closed).toBe(engines.opened);
  // The putText failure is the kept version's document, before the data became current: the version
  // is withdrawn, and no feature file, staged or temporary file is left.
  expect(await leftovers()).toEqual([]);
});

test("an aborted build closes its database and leaves no staged file", async () => {
  const controller = new AbortController();
  const slow = feature({ name: "slow", keys: ["id"], source: transactions }, () => "SELECT range AS id, sum(range) OVER (ORDER BY range) AS total FROM range(30000000)");
  // Aborted as the feature starts: no sleep whose length decides whether the abort lands mid-build.
  const build = definitions([slow]).build({
    signal: controller.signal,
    onProgress: (event) => {
      if (event.type === "start") controller.abort(new Error("Stopped by the test."));
    },
  });
  const error = await build.then(
    () => undefined,
    (reason: unknown) => reason as Error,
  );
  expect(error?.message).toBe("Stopped by the test.");
  expect(engines.closed).toBe(engines.opened);
  expect(await leftovers()).toEqual([]);
});

test("failing reads and training-data calls close every database and remove their temporary files", async () => {
  const defs = definitions([spend(), feature({ name: "daily", keys: ["user_id"], timestamp: "event_time", source: transactions }, (relation) => `SELECT user_id, event_time, amount FROM ${relation}`)]);
  await defs.build();
  const built = await leftovers();
  engines.opened = 0;
  engines.closed = 0;
  const attempts: Array<() => Promise<unknown>> = [
    () => definitions([spend()]).read("user_total_spend_typo"),
    () => definitions([spend(), feature({ name: "never_built", keys: ["user_id"], source: transactions }, (relation) => `SELECT * FROM ${relation}`)]).read("never_built"),
    // Entity rows are written to a temporary file before these fail.
    () => defs.getTrainingData({ features: ["daily"], entities: [{ user_id: "u1", event_time: "yesterday" }], timestamp: "event_time" }),
    () => defs.getTrainingData({ features: ["user_total_spend"], entities: [{ user_id: "u1", total_spend: 1 }] }),
    () => defs.getTrainingData({ features: ["user_total_spend"], entities: [{ customer: "u1" }] }),
    () => defs.getTrainingData({ features: ["user_total_spend"], entities: path.join(directory, "missing.parquet") }),
  ];
  for (const attempt of attempts) await fails(attempt);
  expect(engines.opened).toBeGreaterThan(0);
  expect(engines.closed).toBe(engines.opened);
  expect(await leftovers()).toEqual(built);
});
