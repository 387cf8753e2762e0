// A metadata document of the wrong shape (the right buildId, known fields of the wrong types) is
// stale: readers describe the data file from its footer, and a build rewrites it and says so.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let defs: Definitions;
let document: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-malformed-metadata-"));
  const source = path.join(directory, "tx.csv");
  await writeFile(source, "user_id,amount\nu1,1\nu2,2\nu1,3\n");
  defs = new Definitions({
    name: "malformed",
    offlineStore: new LocalStore(path.join(directory, "feature_store")),
    features: [feature({ name: "user_total_spend", keys: ["user_id"], source }, (relation) => `SELECT user_id, sum(amount) AS total FROM ${relation} GROUP BY user_id`)],
  });
  await defs.build();
  document = path.join(directory, "feature_store", "_metadata", "user_total_spend.json");
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function corrupt(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
  const good = JSON.parse(await readFile(document, "utf8")) as Record<string, unknown>;
  await writeFile(document, JSON.stringify({ ...good, ...fields }));
  return good;
}

test.each([
  [{ sourceFiles: {} }],
  [{ rows: "lots" }],
  [{ builtAt: 5 }],
  [{ schema: [{ name: 1 }] }],
  [{ tags: "a" }],
  [{ bytes: -1 }],
])("%j: metadata() and list() describe the data file, and a build rewrites the document and says so", async (fields) => {
  const good = await corrupt(fields);
  // builtAt from the footer is when the data was computed, a little before the document's.
  const expected = { rows: good.rows, builtAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), sourceFiles: good.sourceFiles, buildId: good.buildId };
  expect(await defs.metadata("user_total_spend")).toMatchObject(expected);
  expect((await defs.list())[0]!.metadata).toMatchObject(expected);

  const result = await defs.build();
  expect(result.skipped.map((item) => item.name)).toEqual(["user_total_spend"]);
  expect(result.skipped[0]!.rows).toBe(2);
  expect(result.skipped[0]!.note).toMatch(/^Its metadata document was malformed \(.+\); rewrote it from the data file's footer\.$/);
  expect(JSON.parse(await readFile(document, "utf8"))).toMatchObject(expected);
  // Once repaired, nothing more to say.
  expect((await defs.build()).skipped[0]!.note).toBeUndefined();
});

test("fields this version does not know are fine: the document is kept as it is", async () => {
  await corrupt({ addedLater: { any: "thing" } });
  const result = await defs.build();
  expect(result.skipped[0]!.note).toBeUndefined();
  expect(JSON.parse(await readFile(document, "utf8"))).toMatchObject({ addedLater: { any: "thing" } });
});
