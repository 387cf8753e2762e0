// Paths with glob characters in them are read literally, each file exactly once: a source glob
// whose matches have `[`, `*` or `?` in their names, a literal source or entities file beside a
// sibling its name would match as a pattern, and a project directory whose name has them.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, type Feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-glob-characters-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function write(relative: string, content: string): Promise<string> {
  const file = path.join(directory, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

function spend(source: string): Feature {
  return feature({ name: "user_total_spend", keys: ["user_id"], source }, (relation) => `SELECT user_id, sum(amount) AS total_spend, count(*)::INTEGER AS n FROM ${relation} GROUP BY user_id`);
}

async function builtRows(source: string, baseDirectory = directory, store = path.join(directory, "feature_store")): Promise<Record<string, unknown>[]> {
  const defs = new Definitions({ name: "globs", features: [spend(source)], offlineStore: new LocalStore(store), baseDirectory });
  await defs.build({ force: true });
  const frame = await defs.getTrainingData({ features: ["user_total_spend"], entities: [{ user_id: "a" }, { user_id: "b" }, { user_id: "c" }] });
  try {
    return await frame.rows();
  } finally {
    await frame.close();
  }
}

test("a glob whose matches have [, *, ? in their names reads each matched file once", async () => {
  await write("data/tx[1].csv", "user_id,amount\na,1\n");
  await write("data/tx1.csv", "user_id,amount\nb,10\n");
  await write("data/tx*a.csv", "user_id,amount\nc,100\n");
  await write("data/tx?.csv", "user_id,amount\nc,1000\n");
  expect(await builtRows("data/tx*.csv")).toEqual([
    { user_id: "a", total_spend: 1, n: 1 },
    { user_id: "b", total_spend: 10, n: 1 },
    { user_id: "c", total_spend: 1100, n: 2 },
  ]);
});

test("a literal source path with glob characters reads that file, not a sibling the pattern matches", async () => {
  await write("p [v2]/data/a.csv", "user_id,amount\na,2\n");
  await write("p 2/data/a.csv", "user_id,amount\na,999\n");
  expect(await builtRows("p [v2]/data/a.csv")).toEqual([
    { user_id: "a", total_spend: 2, n: 1 },
    { user_id: "b", total_spend: null, n: null },
    { user_id: "c", total_spend: null, n: null },
  ]);
});

test("an entities file with glob characters in its name is read literally", async () => {
  await write("data/tx.csv", "user_id,amount\na,1\nb,2\n");
  const entities = await write("labels [v2].csv", "user_id\na\n");
  await write("labels 2.csv", "user_id\nb\n");
  const defs = new Definitions({ name: "globs", features: [spend("data/tx.csv")], offlineStore: new LocalStore(path.join(directory, "feature_store")), baseDirectory: directory });
  await defs.build();
  const frame = await defs.getTrainingData({ features: ["user_total_spend"], entities });
  try {
    expect(await frame.rows()).toEqual([{ user_id: "a", total_spend: 1, n: 1 }]);
  } finally {
    await frame.close();
  }
});

test("a project directory named with glob characters: relative globs and the store inside it work", async () => {
  const project = path.join(directory, "proj [old]");
  await write("proj [old]/data/a.csv", "user_id,amount\na,1\n");
  await write("proj [old]/data/b.csv", "user_id,amount\nb,2\n");
  await write("proj o/data/c.csv", "user_id,amount\nc,3\n");
  expect(await builtRows("data/*.csv", project, path.join(project, "feature_store"))).toEqual([
    { user_id: "a", total_spend: 1, n: 1 },
    { user_id: "b", total_spend: 2, n: 1 },
    { user_id: "c", total_spend: null, n: null },
  ]);
});

test("a source that names an existing file is that file, even when it would match others as a pattern", async () => {
  await write("data/tx*.csv", "user_id,amount\na,5\n");
  await write("data/tx1.csv", "user_id,amount\nb,10\n");
  expect(await builtRows("data/tx*.csv")).toEqual([
    { user_id: "a", total_spend: 5, n: 1 },
    { user_id: "b", total_spend: null, n: null },
    { user_id: "c", total_spend: null, n: null },
  ]);
});
