// Entity keys join only the feature rows whose key they are exactly, by the rule online reads use
// (online/key-codec.ts): for an integer key a number that is that integer or a string of decimal
// digits; for a string key a string; for a boolean key true/false or "true"/"false". Anything else
// matches nothing, whether it comes as a string or a number, in row objects or in a file.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let defs: Definitions;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-key-matching-"));
  const users = path.join(directory, "users.csv");
  await writeFile(users, "user_id,name,active\n1,one,true\n2,two,false\n3,three,true\n10,ten,true\n16,sixteen,false\n");
  defs = new Definitions({
    name: "keys",
    offlineStore: new LocalStore(path.join(directory, "feature_store")),
    features: [
      feature({ name: "by_integer", keys: ["user_id"], source: users }, (relation) => `SELECT user_id::BIGINT AS user_id, name FROM ${relation}`),
      feature({ name: "by_string", keys: ["user_id"], source: users }, (relation) => `SELECT user_id::VARCHAR AS user_id, name AS string_name FROM ${relation}`),
      feature({ name: "by_boolean", keys: ["active"], source: users }, (relation) => `SELECT active::BOOLEAN AS active, count(*)::INTEGER AS users FROM ${relation} GROUP BY active`),
    ],
  });
  await defs.build();
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function joined(features: string[], entities: Parameters<Definitions["getTrainingData"]>[0]["entities"]): Promise<Record<string, unknown>[]> {
  const frame = await defs.getTrainingData({ features, entities });
  try {
    return await frame.rows();
  } finally {
    await frame.close();
  }
}

test("a BIGINT key: strings that DuckDB would cast (1.5, 0x10, 1e1, padded) match nothing; decimal digits match", async () => {
  const values = ["1.5", "0x10", "1e1", " 3 ", "+2", "", "2", "042"];
  const rows = await joined(["by_integer"], values.map((user_id) => ({ user_id })));
  expect(rows.map((row) => row.name)).toEqual([null, null, null, null, null, null, "two", null]);
  // "042" is the canonical 42 online; no user 42 here, so nothing either way. "0010" is user 10.
  expect((await joined(["by_integer"], [{ user_id: "0010" }])).map((row) => row.name)).toEqual(["ten"]);
});

test("a BIGINT key: the number 1.5 and the boolean true match nothing, as the string does; whole numbers match", async () => {
  expect((await joined(["by_integer"], [{ user_id: 1.5 }, { user_id: 2 }])).map((row) => row.name)).toEqual([null, "two"]);
  expect((await joined(["by_integer"], [{ user_id: true }, { user_id: false }])).map((row) => row.name)).toEqual([null, null]);
});

test("the same rule for an entities file DuckDB types itself", async () => {
  const file = path.join(directory, "labels.csv");
  await writeFile(file, "user_id\nx1\n1.5\n3\n");
  expect((await joined(["by_integer"], file)).map((row) => row.name)).toEqual([null, null, "three"]);
});

test("a VARCHAR key matches strings exactly: numbers and padded strings match nothing", async () => {
  expect((await joined(["by_string"], [{ user_id: 1 }, { user_id: 2.0 }])).map((row) => row.string_name)).toEqual([null, null]);
  expect((await joined(["by_string"], [{ user_id: " 1" }, { user_id: "1" }])).map((row) => row.string_name)).toEqual([null, "one"]);
});

test("a BOOLEAN key matches true/false and \"true\"/\"false\", not 1, \"1\" or \"t\"", async () => {
  expect((await joined(["by_boolean"], [{ active: true }, { active: false }])).map((row) => row.users)).toEqual([3, 2]);
  expect((await joined(["by_boolean"], [{ active: "true" }, { active: "t" }, { active: "1" }, { active: "TRUE" }])).map((row) => row.users)).toEqual([3, null, null, null]);
  expect((await joined(["by_boolean"], [{ active: 1 }])).map((row) => row.users)).toEqual([null]);
});
