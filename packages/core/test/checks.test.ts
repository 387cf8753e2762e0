import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  atLeast,
  atMost,
  between,
  BuildError,
  Definitions,
  expect as expectSql,
  feature,
  FeatureBuildError,
  FeatureCheckError,
  FeatureDefinitionError,
  greaterThan,
  lessThan,
  matches,
  notNull,
  oneOf,
  unique,
  type Check,
  type Feature,
} from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let storePath: string;
let users: string;

// 10 rows: user 10 has age 150, user 9 a NULL age, users 7 and 8 share an email, country XX for user 6.
const USERS = [
  "user_id,age,country,email",
  "1,30,DE,a@x.de",
  "2,41,FR,b@x.fr",
  "3,25,US,c@x.us",
  "4,13,DE,d@x.de",
  "5,120,FR,e@x.fr",
  "6,33,XX,f@x.io",
  "7,50,US,same@x.us",
  "8,60,US,same@x.us",
  "9,,DE,i@x.de",
  "10,150,DE,not-an-email",
].join("\n");

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-checks-"));
  storePath = path.join(directory, "store");
  users = path.join(directory, "users.csv");
  await writeFile(users, `${USERS}\n`);
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function profile(checks: Record<string, Check[]>, name = "user_profile"): Feature {
  return feature({ name, keys: ["user_id"], source: users, checks }, (t) => `SELECT user_id, age, country, email FROM ${t}`);
}

function definitions(features: Feature[]): Definitions {
  return new Definitions({ name: "test", features, offlineStore: new LocalStore(storePath) });
}

async function snapshot(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(storePath, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) files.set(path.relative(storePath, path.join(entry.parentPath, entry.name)), await readFile(path.join(entry.parentPath, entry.name)));
  }
  return files;
}

async function failure(defs: Definitions): Promise<FeatureCheckError> {
  const error = await defs.build().catch((caught: unknown) => caught);
  expect(BuildError.isInstance(error)).toBe(true);
  const cause = (error as BuildError).result.failed[0]!.error;
  expect(FeatureCheckError.isInstance(cause) && FeatureBuildError.isInstance(cause)).toBe(true);
  return cause as FeatureCheckError;
}

describe("checks", () => {
  test.each([
    ["notNull", "age", notNull(), 1],
    ["unique", "email", unique(), 2],
    ["greaterThan", "age", greaterThan(13), 1],
    ["atLeast", "age", atLeast(14), 1],
    ["lessThan", "age", lessThan(120), 2],
    ["atMost", "age", atMost(119), 2],
    ["between", "age", between(13, 120), 1],
    ["oneOf", "country", oneOf(["DE", "FR", "US"]), 1],
    ["matches", "email", matches("^[^@]+@[^@]+$"), 1],
    ["expect", "age", expectSql("age < 100 OR country = 'FR'", "only French centenarians"), 1],
  ])("%s fails the rows it should, and passes once they are filtered out", async (_, column, check, failing) => {
    const error = await failure(definitions([profile({ [column]: [check] })]));
    expect(error.checks).toEqual([{ column, check: check.description, severity: "error", passed: false, failingRows: failing, rows: 10 }]);
    expect(error.message).toContain(`column '${column}' ${check.description}: ${failing} of 10 rows failed`);

    const clean = feature({ name: "clean", keys: ["user_id"], source: users, checks: { [column]: [check] } }, (t) =>
      `SELECT user_id, age, country, email FROM ${t} WHERE user_id IN (1, 2, 3)`,
    );
    const result = await definitions([clean]).build();
    expect(result.built[0]!.checks).toEqual([{ column, check: check.description, severity: "error", passed: true, failingRows: 0, rows: 3 }]);
  });

  test("the message names the feature, each failing check with counts, and up to five failing rows with keys and value", async () => {
    const error = await failure(definitions([profile({ age: [notNull(), between(13, 120)], country: [oneOf(["DE", "FR", "US"])], email: [unique()], user_id: [lessThan(5)] })]));
    expect(error.message).toContain("Feature 'user_profile' failed to build: 5 checks failed, so nothing was published (the previous version stays):");
    expect(error.message).toContain("column 'age' notNull(): 1 of 10 rows failed, for example (user_id=9, age=NULL)");
    expect(error.message).toContain("column 'age' between(13, 120): 1 of 10 rows failed, for example (user_id=10, age=150)");
    expect(error.message).toContain(`column 'country' oneOf(["DE", "FR", "US"]): 1 of 10 rows failed, for example (user_id=6, country='XX')`);
    expect(error.message).toMatch(/column 'email' unique\(\): 2 of 10 rows failed, for example \(user_id=[78], email='same@x.us'\), \(user_id=[78], email='same@x.us'\)/);
    // Six rows fail lessThan(5); five are shown.
    const shown = /column 'user_id' lessThan\(5\): 6 of 10 rows failed, for example (.*)/.exec(error.message)![1]!;
    expect(shown.split("), (").length).toBe(5);
  });

  test("a warn check publishes the feature and records its failures in the result and the metadata", async () => {
    const defs = definitions([profile({ age: [between(13, 120, { severity: "warn" })], user_id: [notNull()] })]);
    const result = await defs.build();
    const expected = [
      { column: "age", check: "between(13, 120)", severity: "warn", passed: false, failingRows: 1, rows: 10 },
      { column: "user_id", check: "notNull()", severity: "error", passed: true, failingRows: 0, rows: 10 },
    ];
    expect(result.built[0]!.checks).toEqual(expected);
    expect((await defs.metadata("user_profile"))?.checks).toEqual(expected);
    // Skipped: the results as last built.
    expect((await defs.build()).skipped[0]!.checks).toEqual(expected);
  });

  test("after a failing error check the previous version stays byte for byte", async () => {
    await definitions([profile({ age: [atMost(200)] })]).build();
    const before = await snapshot();
    expect(before.size).toBeGreaterThan(0);
    await failure(definitions([profile({ age: [atMost(100)] })]));
    expect(await snapshot()).toEqual(before);
  });

  test("a check on a column the output lacks is a FeatureDefinitionError before any work", async () => {
    const defs = definitions([profile({ agee: [notNull()] })]);
    const error = await defs.build().catch((caught: unknown) => caught);
    const cause = (error as BuildError).result.failed[0]!.error;
    expect(FeatureDefinitionError.isInstance(cause)).toBe(true);
    expect(cause!.message).toBe("Feature 'user_profile' has checks on 'agee', which its output lacks. Output columns: user_id, age, country, email. Check a column the transform returns.");
    expect(await snapshot()).toEqual(new Map());
    // A rolling feature's output is known from its definition: feature() refuses at once.
    expect(() =>
      feature(
        { name: "spend", keys: ["user_id"], source: users, timestamp: "t", rolling: { interval: "1d", windows: ["7d"], aggregations: { amount: ["sum"] } }, checks: { amount: [notNull()] } },
        (t) => `SELECT * FROM ${t}`,
      ),
    ).toThrow("Feature 'spend' has checks on 'amount', which its output lacks. Output columns: user_id, as_of, amount_sum_7d.");
  });

  test("validate() runs transforms and checks and publishes nothing", async () => {
    const defs = definitions([profile({ age: [between(13, 120)] }), profile({ country: [oneOf(["DE", "FR", "US", "XX"])] }, "fine")]);
    const result = await defs.validate();
    expect(result.passed).toBe(false);
    expect(result.features.map((item) => [item.name, item.status, item.rows, item.checks.map((check) => check.failingRows)])).toEqual([
      ["user_profile", "failed", 10, [1]],
      ["fine", "passed", 10, [0]],
    ]);
    expect(FeatureCheckError.isInstance(result.features[0]!.error)).toBe(true);
    expect(await snapshot()).toEqual(new Map());
  });

  test("checks refuse bad arguments", () => {
    expect(() => between(1, Number.NaN)).toThrow(FeatureDefinitionError);
    expect(() => oneOf([])).toThrow("oneOf() takes a non-empty array");
    expect(() => notNull({ severity: "fatal" as never })).toThrow('Use "error" or "warn".');
    expect(() => profile({ age: ["notNull" as never] })).toThrow("invalid checks for 'age'");
  });
});
