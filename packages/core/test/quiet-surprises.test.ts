// Input that used to pass quietly or fail with a raw error: a tag no feature has, names that only
// differ in case, a name too long for a file system, a stored file holding another feature, and
// garbage or empty Parquet files met by getTrainingData.
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, FeatureDefinitionError, MlforgeError, StoreAccessError, TagNotFoundError, TrainingDataError, type Feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let source: string;
let storePath: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-quiet-"));
  source = path.join(directory, "tx.csv");
  await writeFile(source, "user_id,amount\nu1,1\nu2,2\n");
  storePath = path.join(directory, "feature_store");
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function spend(name: string, tags: string[] = [], sql = "sum(amount)"): Feature {
  return feature({ name, keys: ["user_id"], source, tags }, (relation) => `SELECT user_id, ${sql} AS ${name}_value FROM ${relation} GROUP BY user_id`);
}

function definitions(features: Feature[]): Definitions {
  return new Definitions({ name: "quiet", features, offlineStore: new LocalStore(storePath) });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(MlforgeError.isInstance(error)).toBe(true);
  return error as Error;
}

test("a tag no feature has is an error naming the known tags, as a misspelt feature name is", async () => {
  const defs = definitions([spend("a", ["users", "spend"]), spend("b", ["products"])]);
  const error = await rejection(defs.build({ tags: ["user"] }));
  expect(error).toBeInstanceOf(TagNotFoundError);
  expect(error.message).toBe("Tag 'user' is not on any feature. Known tags: users, spend, products.");
  expect((await defs.build({ tags: ["products"] })).built.map((item) => item.name)).toEqual(["b"]);
});

test("two features whose names differ only in case are refused in one Definitions, naming both", () => {
  expect(() => definitions([spend("user_spend"), spend("User_Spend")])).toThrow(
    new FeatureDefinitionError("Features 'user_spend' and 'User_Spend' differ only in case, so their files would collide on macOS and Windows file systems. Rename one."),
  );
});

test("a feature name longer than 128 characters is refused by feature(), saying the limit", () => {
  expect(() => spend("f".repeat(128))).not.toThrow();
  const attempt = () => spend("f".repeat(230));
  expect(attempt).toThrow(FeatureDefinitionError);
  expect(attempt).toThrow("is 230 characters long; the limit is 128");
});

test("a stored file whose footer names another feature is refused on read and rebuilt by a build", async () => {
  const defs = definitions([spend("a"), spend("b", [], "max(amount)")]);
  await defs.build();
  await copyFile(path.join(storePath, "b.parquet"), path.join(storePath, "a.parquet"));
  const error = await rejection(defs.getTrainingData({ features: ["a"], entities: [{ user_id: "u1" }] }));
  expect(error).toBeInstanceOf(StoreAccessError);
  expect(error.message).toContain("The stored data of feature 'a' in");
  expect(error.message).toContain("holds feature 'b' (its footer says so)");
  expect((await rejection(defs.read("a"))).message).toContain("holds feature 'b'");
  expect((await rejection(defs.metadata("a"))).message).toContain("holds feature 'b'");
  const rebuilt = await defs.build();
  expect(rebuilt.built.map((item) => item.name)).toEqual(["a"]);
  const frame = await defs.getTrainingData({ features: ["a"], entities: [{ user_id: "u2" }] });
  try {
    expect(await frame.rows()).toEqual([{ user_id: "u2", a_value: 2 }]);
  } finally {
    await frame.close();
  }
});

test("garbage or empty Parquet met by getTrainingData: one sentence naming the file and what to do, no SQL", async () => {
  const defs = definitions([spend("a")]);
  await defs.build();
  for (const content of ["", "not parquet at all"]) {
    const entities = path.join(directory, "labels.parquet");
    await writeFile(entities, content);
    const error = await rejection(defs.getTrainingData({ features: ["a"], entities }));
    expect(error).toBeInstanceOf(TrainingDataError);
    expect(error.message).toMatch(new RegExp(`^Entities file '${entities.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}' is not a readable Parquet file \\(.+\\)\\. Write it again as Parquet, or pass a \\.csv or \\.json file\\.$`));
    expect(error.message).not.toMatch(/SELECT|read_parquet|\n/);
  }
  for (const content of ["", "not parquet at all"]) {
    await writeFile(path.join(storePath, "a.parquet"), content);
    const error = await rejection(defs.getTrainingData({ features: ["a"], entities: [{ user_id: "u1" }] }));
    expect(error).toBeInstanceOf(StoreAccessError);
    expect(error.message).toMatch(/^The stored data of feature 'a' \(.*a\.parquet\) is not a readable Parquet file \(.+\)\. Rebuild it with build\(\{ features: \["a"\], force: true \}\) \(mlforge build --features a --force\)\.$/);
    expect(error.message).not.toMatch(/SELECT|read_parquet|\n/);
  }
});
