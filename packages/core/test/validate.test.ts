// Definitions.validate() as a caller sees it: one progress call per feature as it ends, failures
// that do not stop the others, and an abort that rejects instead of being recorded as a failure.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, FeatureBuildError, type Feature, type FeatureValidationResult } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let storePath: string;
let transactions: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-validate-"));
  storePath = path.join(directory, "store");
  transactions = path.join(directory, "transactions.csv");
  await writeFile(transactions, "user_id,amount\nu1,10.5\nu2,7\nu1,5\n");
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A feature over the transactions whose transform logs that it ran, then gives `sql` (with $src). */
function logged(name: string, log: string[], sql = "SELECT user_id, sum(amount) AS total FROM $src GROUP BY user_id"): Feature {
  return feature({ name, keys: ["user_id"], source: transactions }, (relation) => {
    log.push(`compute ${name}`);
    return sql.replace("$src", relation);
  });
}

function definitions(features: Feature[]): Definitions {
  return new Definitions({ name: "validate", features, offlineStore: new LocalStore(storePath) });
}

test("reports each feature once, as it ends and before the next one computes, with the entry the result holds", async () => {
  const log: string[] = [];
  const reported: FeatureValidationResult[] = [];
  const broken = "SELECT user_id, sum(no_such_column) AS total FROM $src GROUP BY user_id";
  const result = await definitions([logged("first", log), logged("broken", log, broken), logged("last", log)]).validate({
    onProgress: (entry) => {
      log.push(`end ${entry.name} ${entry.status}`);
      reported.push(entry);
    },
  });
  expect(log).toEqual([
    "compute first",
    "end first passed",
    "compute broken",
    "end broken failed",
    "compute last",
    "end last passed",
  ]);
  expect(result.features.map((entry) => [entry.name, entry.status, entry.rows])).toEqual([
    ["first", "passed", 2],
    ["broken", "failed", 0],
    ["last", "passed", 2],
  ]);
  expect(reported).toHaveLength(3);
  reported.forEach((entry, index) => expect(entry).toBe(result.features[index]));
  expect(result.passed).toBe(false);
  expect(FeatureBuildError.isInstance(result.features[1]!.error)).toBe(true);
  expect(result.features[1]!.error!.message).toContain("no_such_column");
  // Nothing is published.
  expect(await readdir(storePath).catch(() => [])).not.toContain("first.parquet");
});

test("an aborted signal rejects with its reason before any feature, and an abort mid-run stops it instead of recording a failure", async () => {
  const before = new AbortController();
  before.abort(new Error("Stopped before."));
  const log: string[] = [];
  await expect(definitions([logged("first", log)]).validate({ signal: before.signal, onProgress: () => log.push("progress") })).rejects.toThrow("Stopped before.");
  expect(log).toEqual([]);

  const during = new AbortController();
  const reported: string[] = [];
  const run = definitions([logged("first", log), logged("second", log)]).validate({
    signal: during.signal,
    onProgress: (entry) => {
      reported.push(`${entry.name} ${entry.status}`);
      during.abort(new Error("Stopped after the first feature."));
    },
  });
  await expect(run).rejects.toThrow("Stopped after the first feature.");
  expect(reported).toEqual(["first passed"]);
  expect(log).not.toContain("compute second");
});
