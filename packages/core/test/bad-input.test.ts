// Bad input of every kind fails with its own error class and a message that says what is wrong,
// and leaves the store byte for byte as it was. (build.test.ts covers a missing source, an empty
// glob, a SQL error, missing key or timestamp columns, a transform that throws or returns a number,
// duplicate and null keys; feature.test.ts bad feature() options; point-in-time.test.ts missing
// and clashing columns and entity values that cannot be stored.)
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BuildError,
  Definitions,
  feature,
  FeatureBuildError,
  FeatureDefinitionError,
  MlforgeError,
  StoreAccessError,
  TrainingDataError,
  type Feature,
  type FeatureTransform,
} from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let transactions: string;
let storePath: string;
let before: Map<string, Buffer>;

const TRANSACTIONS = "user_id,amount\nu1,10.5\nu2,7\nu1,5\n";

function spend(source: string, transform: FeatureTransform = (relation) => `SELECT user_id, sum(amount) AS total_spend FROM ${relation} GROUP BY user_id`): Feature {
  return feature({ name: "user_total_spend", keys: ["user_id"], source }, transform);
}

function definitions(features: Feature[], store = storePath): Definitions {
  return new Definitions({ name: "bad-input", features, offlineStore: new LocalStore(store) });
}

/** Every file under `root`, path → bytes. */
async function snapshot(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files.set(path.relative(root, file), await readFile(file));
    }
  }
  return files;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  expect(MlforgeError.isInstance(error)).toBe(true);
  return error as Error;
}

/** The one failed feature's error of a build that must fail. */
async function featureFailure(defs: Definitions): Promise<Error> {
  const error = await rejection(defs.build({ force: true }));
  expect(error).toBeInstanceOf(BuildError);
  const failed = (error as BuildError).result.failed;
  expect(failed).toHaveLength(1);
  return failed[0]!.error!;
}

async function sourceFile(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(directory, name);
  await writeFile(file, content);
  return file;
}

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-bad-input-"));
  transactions = await sourceFile("transactions.csv", TRANSACTIONS);
  storePath = path.join(directory, "feature_store");
  await definitions([spend(transactions)]).build();
  before = await snapshot(storePath);
});

afterEach(async () => {
  // Byte for byte: the previously built feature and its metadata, and no temporary file left behind.
  expect(await snapshot(storePath)).toEqual(before);
  await rm(directory, { recursive: true, force: true });
});

describe("bad sources", () => {
  test("an empty file", async () => {
    for (const name of ["empty.csv", "empty.parquet", "empty.ndjson"]) {
      const file = await sourceFile(name, "");
      const error = await featureFailure(definitions([spend(file)]));
      expect(error).toBeInstanceOf(FeatureBuildError);
      expect(error.message).toBe(
        `Feature 'user_total_spend' failed to build: its source '${file}' holds no data: the file it names is empty (0 bytes): ${file}. ` +
          "Write the data first, or point the source at files that hold it.",
      );
    }
  });

  test("a glob whose files are all empty; an empty file among others is read", async () => {
    await mkdir(path.join(directory, "parts"));
    await sourceFile("parts/a.csv", "");
    await sourceFile("parts/b.csv", "");
    const error = await featureFailure(definitions([spend(path.join(directory, "parts", "*.csv"))]));
    expect(error.message).toContain("holds no data: every file it matches is empty (0 bytes)");
    expect(error.message).toContain(path.join(directory, "parts", "a.csv"));

    await sourceFile("parts/c.csv", TRANSACTIONS);
    const good = await definitions([spend(path.join(directory, "parts", "*.csv"))], path.join(directory, "other_store")).build();
    expect(good.built[0]!.rows).toBe(2);
  });

  test("a .parquet file that is not Parquet", async () => {
    const file = await sourceFile("transactions.parquet", "user_id,amount\nu1,10\n");
    const error = await featureFailure(definitions([spend(file)]));
    expect(error).toBeInstanceOf(FeatureBuildError);
    expect(error.message).toMatch(/^Feature 'user_total_spend' failed to build: Invalid Input Error: No magic bytes found at end of file/);
    expect(error.message).toContain(file);
  });

  test("a CSV file that breaks after the rows DuckDB sniffs its types from: the build stops mid-copy and its staged file is removed", async () => {
    const rows = Array.from({ length: 30_000 }, (_, index) => `u${index},${index === 25_000 ? "ten" : index}`);
    const file = await sourceFile("late.csv", `user_id,amount\n${rows.join("\n")}\n`);
    const error = await featureFailure(definitions([spend(file)]));
    expect(error).toBeInstanceOf(FeatureBuildError);
    expect(error.message).toMatch(/^Feature 'user_total_spend' failed to build: (Conversion|Invalid Input) Error:/);
    expect(error.message).toContain("ten");
  });

  test("malformed JSON", async () => {
    const file = await sourceFile("events.ndjson", '{"user_id": "u1", "amount": 1}\n{"user_id": "u2", "amount": ');
    const error = await featureFailure(definitions([spend(file)]));
    expect(error).toBeInstanceOf(FeatureBuildError);
    expect(error.message).toMatch(/^Feature 'user_total_spend' failed to build: Invalid Input Error: Malformed JSON/);
  });
});

describe("bad transforms", () => {
  test("a transform that returns no query, or a promise of something else, or rejects", async () => {
    const cases: Array<[FeatureTransform, string]> = [
      [(() => undefined) as never, "its transform returned undefined instead of a SQL query"],
      [(() => "  ") as never, "its transform returned string instead of a SQL query"],
      [(() => ({ sql: "SELECT 1" })) as never, "its transform returned object instead of a SQL query"],
      [(async () => 7) as never, "its transform returned number instead of a SQL query"],
      [async () => Promise.reject(new Error("secrets file unreadable")), "its transform threw: secrets file unreadable"],
    ];
    for (const [transform, message] of cases) {
      const error = await featureFailure(definitions([spend(transactions, transform)]));
      expect(error).toBeInstanceOf(FeatureBuildError);
      expect(error.message).toContain(`Feature 'user_total_spend' failed to build: ${message}`);
    }
  });

  test("SQL with a second statement that would write into the store is refused by the parser", async () => {
    const target = path.join(storePath, "user_total_spend.parquet");
    const error = await featureFailure(
      definitions([spend(transactions, (relation) => `SELECT user_id, 1 AS total_spend FROM ${relation}; COPY (SELECT 'x' AS user_id) TO '${target}'`)]),
    );
    expect(error).toBeInstanceOf(FeatureBuildError);
    expect(error.message).toMatch(/^Feature 'user_total_spend' failed to build: Parser Error: syntax error at or near ";"/);
  });

  test("SQL that fails while it runs, after the output was planned", async () => {
    const error = await featureFailure(definitions([spend(transactions, (relation) => `SELECT user_id, CAST(user_id AS INTEGER) AS total_spend FROM ${relation} GROUP BY user_id`)]));
    expect(error).toBeInstanceOf(FeatureBuildError);
    expect(error.message).toMatch(/^Feature 'user_total_spend' failed to build: Conversion Error: Could not convert string 'u\d' to INT32/);
  });
});

describe("bad training data requests", () => {
  test("entity rows of the wrong shape", async () => {
    const defs = definitions([spend(transactions)]);
    const notParquet = await sourceFile("labels.parquet", "user_id,event_time\nu1,2025-01-01\nu2,2025-01-02\n");
    const cases: Array<[unknown, string | RegExp]> = [
      [[1, 2], "Entity row 0 is number 1, not an object."],
      [[{ user_id: "u1" }, null], "Entity row 1 is null, not an object."],
      [[["u1"]], "Entity row 0 is an array, not an object."],
      [[{ user_id: { id: "u1" } }], "Entity row 0 has an object in column 'user_id', which cannot be stored."],
      [[{ user_id: "u1", "": 1 }], "Entity row 0 has a column with an empty name."],
      [[{ user_id: "u1", User_Id: "u2" }], "Entity rows have columns 'user_id' and 'User_Id', which DuckDB treats as the same name"],
      [{ user_id: "u1" }, "getTrainingData needs `entities`: a path to a .parquet, .csv or .json file, or an array of row objects."],
      [notParquet, /^Entities file '.*labels\.parquet' is not a readable Parquet file \(Invalid Input Error: No magic bytes found/],
      [path.join(directory, "labels.txt"), /^Entities file '.*labels\.txt' does not exist/],
    ];
    for (const [entities, message] of cases) {
      const error = await rejection(defs.getTrainingData({ features: ["user_total_spend"], entities: entities as never }));
      expect(MlforgeError.isInstance(error)).toBe(true);
      if (typeof message === "string") expect(error.message).toContain(message);
      else expect(error.message).toMatch(message);
    }
  });
});

describe("bad stores", () => {
  test("a store path that is a file", async () => {
    const file = await sourceFile("not-a-directory", "keep me");
    const error = await rejection(definitions([spend(transactions)], file).build());
    expect(error).toBeInstanceOf(StoreAccessError);
    expect(error.message).toBe(`LocalStore path '${file}' is a file, not a directory. Point LocalStore at a directory.`);
    expect(await readFile(file, "utf8")).toBe("keep me");
  });

  test("a store path under a file", async () => {
    const file = await sourceFile("a-file", "keep me");
    const store = path.join(file, "feature_store");
    const error = await rejection(definitions([spend(transactions)], store).build());
    expect(error).toBeInstanceOf(StoreAccessError);
    expect(error.message).toBe(`LocalStore could not read '${store}' (ENOTDIR). Part of that path is a file; point LocalStore at a directory.`);
    expect(await readFile(file, "utf8")).toBe("keep me");
  });

  test("a store directory this user may not write to", async () => {
    // Root may write anywhere, whatever the mode: there the test takes a directory under a file instead.
    const isRoot = process.getuid?.() === 0;
    const store = isRoot ? path.join(await sourceFile("plain-file", "x"), "store") : path.join(directory, "read_only_store");
    if (!isRoot) {
      await mkdir(store);
      await chmod(store, 0o555);
    }
    try {
      const error = await rejection(definitions([spend(transactions)], store).build({ force: true }));
      if (isRoot) {
        expect(error).toBeInstanceOf(StoreAccessError);
        expect(error.message).toContain("(ENOTDIR). Part of that path is a file; point LocalStore at a directory.");
      } else {
        expect(error).toBeInstanceOf(BuildError);
        const failure = (error as BuildError).result.failed[0]!.error!;
        expect(failure).toBeInstanceOf(StoreAccessError);
        expect(failure.message).toBe(`LocalStore could not write in '${store}' (EACCES). Check that this user may write there.`);
        expect(await readdir(store)).toEqual([]);
      }
    } finally {
      if (!isRoot) await chmod(store, 0o755);
    }
  });
});

describe("unknown options", () => {
  test("new Definitions()", () => {
    const attempt = () => new Definitions({ name: "x", features: [], offlineStore: new LocalStore(storePath), store: "typo" } as never);
    expect(attempt).toThrow(FeatureDefinitionError);
    expect(attempt).toThrow("Definitions has unknown option 'store'. Known options: name, features, offlineStore, engine, sources, baseDirectory, onlineStore, keepVersions.");
  });

  test("build() and materialize(): a misspelt selection fails instead of building everything", async () => {
    const defs = definitions([spend(transactions)]);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => defs.build({ feature: ["user_total_spend"], force: true } as never), "build has unknown option 'feature'. Known options: features, tags, force, onProgress, signal, online."],
      [() => defs.build({ features: "user_total_spend" } as never), "build option 'features' must be an array of names, for example features: [\"user_total_spend\"]."],
      [() => defs.build({ force: "yes" } as never), "build option 'force' must be true or false."],
      [() => defs.build(null as never), "build takes an options object"],
      [() => defs.materialize({ features: ["user_total_spend"], force: true } as never), "materialize has unknown option 'features'. Known options: featureNames, tags, force, onProgress, signal."],
    ];
    for (const [attempt, message] of cases) {
      const error = await rejection(attempt());
      expect(error).toBeInstanceOf(FeatureDefinitionError);
      expect(error.message).toContain(message);
    }
  });

  test("getTrainingData()", async () => {
    const error = await rejection(definitions([spend(transactions)]).getTrainingData({ features: ["user_total_spend"], entities: [{ user_id: "u1" }], timestmp: "t" } as never));
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toBe("getTrainingData has unknown option 'timestmp'. Known options: features, entities, timestamp, plan, reproduce, signal.");
  });
});
