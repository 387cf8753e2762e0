import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BuildError,
  Definitions,
  feature,
  FeatureNotBuiltError,
  FeatureNotFoundError,
  FeatureRollbackError,
  FeatureVersionNotFoundError,
  InvalidOptionError,
  StoreAccessError,
  type BuildProgressEvent,
  type DefinitionsOptions,
  type FeatureFrame,
  type OfflineStore,
} from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { interceptStore } from "@mlforge/store-test-suite";

let directory: string;
let transactions: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-versions-"));
  transactions = path.join(directory, "transactions.csv");
  await writeFile(transactions, "user_id,amount\nu1,10\nu1,5\nu2,7\n");
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const SQL = "SELECT user_id, sum(amount)::DOUBLE AS total FROM {src} GROUP BY user_id ORDER BY user_id";

function definitions(options: Partial<DefinitionsOptions> & { sql?: string } = {}): Definitions {
  const { sql = SQL, ...rest } = options;
  const spend = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) => sql.replace("{src}", source));
  return new Definitions({ name: "test", features: [spend], offlineStore: new LocalStore(path.join(directory, "store")), ...rest });
}

describe("reading versions", () => {
  test("a feature never built has no versions", async () => {
    await using defs = definitions();
    expect(await defs.versions("user_total_spend")).toEqual([]);
  });

  test("the current build is a version, readable by its build id", async () => {
    await using defs = definitions();
    await defs.build();
    const current = (await defs.metadata("user_total_spend"))!;
    const versions = await defs.versions("user_total_spend");
    expect(versions).toEqual([{ buildId: current.buildId, builtAt: current.builtAt, rows: 2, bytes: current.bytes, fingerprint: current.fingerprint, current: true }]);
    await using frame = await defs.read("user_total_spend", { version: current.buildId });
    expect(await frame.rows()).toEqual([
      { user_id: "u1", total: 15 },
      { user_id: "u2", total: 7 },
    ]);
  });

  test("an unknown version is an error naming it and the kept ones", async () => {
    await using defs = definitions();
    await defs.build();
    const { buildId } = (await defs.metadata("user_total_spend"))!;
    const error = await defs.read("user_total_spend", { version: "0123456789abcdef" }).catch((caught: unknown) => caught);
    expect(FeatureVersionNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("'0123456789abcdef'");
    await expect(defs.read("user_total_spend", { version: "../x" })).rejects.toThrow(/no version '\.\.\/x'/);
    expect(buildId).toMatch(/^[0-9a-f]{32}$/);
  });
});

/** Every file under the store's `_versions/user_total_spend/`, sorted. */
async function versionFiles(): Promise<string[]> {
  return (await readdir(path.join(directory, "store", "_versions", "user_total_spend")).catch(() => [] as string[])).sort();
}

/** Writes the transactions with every amount multiplied by `factor`, so each build's values differ. */
async function writeTransactions(factor: number): Promise<void> {
  await writeFile(transactions, `user_id,amount\nu1,${10 * factor}\nu1,${5 * factor}\nu2,${7 * factor}\n`);
}

/** Builds `count` times with new data each time (u1's total is 15 × the build's number); returns the build ids, oldest first. */
async function buildTimes(defs: Definitions, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let build = 1; build <= count; build++) {
    await writeTransactions(build);
    const result = await defs.build({ force: true });
    expect(result.built).toHaveLength(1);
    ids.push((await defs.metadata("user_total_spend"))!.buildId);
  }
  return ids;
}

async function rowsOf(frame: Promise<FeatureFrame>): Promise<Record<string, unknown>[]> {
  await using opened = await frame;
  return opened.rows();
}

describe("writing versions", () => {
  test("every build keeps its data and metadata document under _versions/<feature>/<buildId>, beside the current files", async () => {
    await using defs = definitions();
    const ids = await buildTimes(defs, 2);
    expect(await versionFiles()).toEqual(ids.flatMap((id) => [`${id}.json`, `${id}.parquet`]));
    const store = path.join(directory, "store");
    expect(await readFile(path.join(store, "_versions", "user_total_spend", `${ids[1]}.parquet`))).toEqual(await readFile(path.join(store, "user_total_spend.parquet")));
    const current = JSON.parse(await readFile(path.join(store, "_metadata", "user_total_spend.json"), "utf8"));
    const kept = JSON.parse(await readFile(path.join(store, "_versions", "user_total_spend", `${ids[1]}.json`), "utf8"));
    expect(kept).toEqual(current);
    expect(kept).toMatchObject({ buildId: ids[1], rows: 2 });

    const versions = await defs.versions("user_total_spend");
    expect(versions.map((version) => [version.buildId, version.current])).toEqual([
      [ids[1], true],
      [ids[0], false],
    ]);
    expect(await rowsOf(defs.read("user_total_spend", { version: ids[0]! }))).toEqual([
      { user_id: "u1", total: 15 },
      { user_id: "u2", total: 7 },
    ]);
    expect(await rowsOf(defs.read("user_total_spend"))).toEqual([
      { user_id: "u1", total: 30 },
      { user_id: "u2", total: 14 },
    ]);
  });

  test("an unchanged feature is skipped and keeps no new version", async () => {
    await using defs = definitions();
    await defs.build();
    const before = await versionFiles();
    expect((await defs.build()).skipped).toHaveLength(1);
    expect(await versionFiles()).toEqual(before);
  });

  test("a build whose data cannot be made current withdraws its version and leaves the previous one current", async () => {
    await using defs = definitions();
    const [first] = await buildTimes(defs, 1);
    const store = new LocalStore(path.join(directory, "store"));
    const failing = interceptStore<OfflineStore>(store, {
      copy: async () => {
        throw new StoreAccessError("The disk is full.");
      },
    });
    await using broken = definitions({ offlineStore: failing });
    await writeTransactions(2);
    const error = await broken.build().catch((caught: unknown) => caught);
    expect(BuildError.isInstance(error) && error.result.failed[0]?.error?.message).toBe("The disk is full.");
    expect(await versionFiles()).toEqual([`${first}.json`, `${first}.parquet`]);
    expect((await defs.metadata("user_total_spend"))?.buildId).toBe(first);
  });
});

describe("retention: keepVersions", () => {
  test("keeps exactly the newest N versions, the current one included", async () => {
    await using defs = definitions({ keepVersions: 3 });
    const ids = await buildTimes(defs, 5);
    expect((await defs.versions("user_total_spend")).map((version) => version.buildId)).toEqual(ids.slice(2).reverse());
    expect(await versionFiles()).toEqual(ids.slice(2).flatMap((id) => [`${id}.json`, `${id}.parquet`]));
    const error = await defs.read("user_total_spend", { version: ids[0]! }).catch((caught: unknown) => caught);
    expect(FeatureVersionNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`Kept versions, newest first: ${ids.slice(2).reverse().join(", ")}.`);
  });

  test("1 keeps the current version alone; 0 keeps none (and removes those kept before); Infinity keeps all", async () => {
    await using one = definitions({ keepVersions: 1 });
    const ids = await buildTimes(one, 2);
    expect(await versionFiles()).toEqual([`${ids[1]}.json`, `${ids[1]}.parquet`]);

    await using off = definitions({ keepVersions: 0 });
    const [unversioned] = await buildTimes(off, 1);
    expect(await versionFiles()).toEqual([]);
    await expect(readdir(path.join(directory, "store"))).resolves.toEqual(expect.arrayContaining(["_metadata", "user_total_spend.parquet"]));
    // The current build is still listed, and readable by its id.
    expect((await off.versions("user_total_spend")).map((version) => [version.buildId, version.current])).toEqual([[unversioned, true]]);

    await using all = definitions({ keepVersions: Infinity });
    expect((await buildTimes(all, 12)).length).toBe(12);
    expect(await all.versions("user_total_spend")).toHaveLength(12);
  });

  test("the default keeps 10", async () => {
    await using defs = definitions();
    const ids = await buildTimes(defs, 11);
    expect((await defs.versions("user_total_spend")).map((version) => version.buildId)).toEqual(ids.slice(1).reverse());
  });

  test.each([[-1], [1.5], [Number.NaN], ["10"], [true]])("keepVersions %p is refused with InvalidOptionError", (value) => {
    const attempt = () => definitions({ keepVersions: value as number });
    expect(attempt).toThrow(InvalidOptionError);
    expect(attempt).toThrow(/^Definitions option 'keepVersions' is .*; it must be a whole number of 0 or more, or Infinity: keepVersions: 10 \(the default\)/);
  });

  test("a store that may not delete: the build succeeds and its result says old versions were kept", async () => {
    const store = new LocalStore(path.join(directory, "store"));
    const denied = interceptStore<OfflineStore>(store, {
      delete: async (key: string) => {
        throw new StoreAccessError(`Access denied: these credentials may not perform s3:DeleteObject on '${key}'.`, { reason: "access-denied" });
      },
    });
    await using defs = definitions({ offlineStore: denied, keepVersions: 1 });
    const events: BuildProgressEvent[] = [];
    await writeTransactions(1);
    await defs.build();
    await writeTransactions(2);
    const result = await defs.build({ onProgress: (event) => events.push(event) });
    expect(result.built[0]!.note).toMatch(/^Kept 1 old version beyond keepVersions \(1\): removing it failed\. Access denied: these credentials may not perform s3:DeleteObject on '_versions\/user_total_spend\/[0-9a-f]+\.json'\.$/);
    expect(events.find((event) => event.type === "end")).toMatchObject({ result: { note: result.built[0]!.note } });
    expect(await versionFiles()).toHaveLength(4);
  });

  test("data left without its document by a killed build is removed once a day old; a fresh one may be a running build's", async () => {
    await using defs = definitions();
    await buildTimes(defs, 1);
    const folder = path.join(directory, "store", "_versions", "user_total_spend");
    const old = `${(Date.now() - 25 * 60 * 60 * 1000).toString(16).padStart(12, "0")}${"a".repeat(20)}`;
    const fresh = `${Date.now().toString(16).padStart(12, "0")}${"b".repeat(20)}`;
    await writeFile(path.join(folder, `${old}.parquet`), "half");
    await writeFile(path.join(folder, `${fresh}.parquet`), "half");
    const [id] = await buildTimes(defs, 1);
    const files = await versionFiles();
    expect(files).toContain(`${fresh}.parquet`);
    expect(files).not.toContain(`${old}.parquet`);
    expect(files).toContain(`${id}.parquet`);
  });
});

describe("rollback", () => {
  test("makes the previous version current: its values, metadata saying so, and the versions listing", async () => {
    await using defs = definitions();
    const ids = await buildTimes(defs, 3);
    const restored = JSON.parse(await readFile(path.join(directory, "store", "_versions", "user_total_spend", `${ids[1]}.json`), "utf8"));

    const result = await defs.rollback("user_total_spend", { to: "previous" });
    expect(result).toMatchObject({ name: "user_total_spend", dryRun: false, restored: { buildId: ids[1], rows: 2 }, replaced: { buildId: ids[2] } });
    expect(await rowsOf(defs.read("user_total_spend"))).toEqual([
      { user_id: "u1", total: 30 },
      { user_id: "u2", total: 14 },
    ]);
    const metadata = (await defs.metadata("user_total_spend"))!;
    expect(metadata).toMatchObject({ buildId: ids[1], builtAt: restored.builtAt, fingerprint: restored.fingerprint });
    expect(metadata.rollback).toEqual({ restoredBuildId: ids[1], replacedBuildId: ids[2], rolledBackAt: expect.any(String) });
    expect(Date.parse(metadata.rollback!.rolledBackAt)).toBeGreaterThanOrEqual(Date.parse(restored.builtAt));
    expect((await defs.versions("user_total_spend")).map((version) => [version.buildId, version.current])).toEqual([
      [ids[2], false],
      [ids[1], true],
      [ids[0], false],
    ]);

    // "previous" walks further back; a build id goes anywhere, forward too.
    expect((await defs.rollback("user_total_spend", { to: "previous" })).restored.buildId).toBe(ids[0]);
    expect((await defs.rollback("user_total_spend", { to: ids[2]! })).restored.buildId).toBe(ids[2]);
    expect(await rowsOf(defs.read("user_total_spend"))).toEqual([
      { user_id: "u1", total: 45 },
      { user_id: "u2", total: 21 },
    ]);
  });

  test("dryRun says what would happen and changes nothing", async () => {
    await using defs = definitions();
    const ids = await buildTimes(defs, 2);
    const store = path.join(directory, "store");
    const before = await readFile(path.join(store, "_metadata", "user_total_spend.json"), "utf8");
    const result = await defs.rollback("user_total_spend", { to: ids[0]!, dryRun: true });
    expect(result).toMatchObject({ dryRun: true, restored: { buildId: ids[0] }, replaced: { buildId: ids[1] } });
    expect(await readFile(path.join(store, "_metadata", "user_total_spend.json"), "utf8")).toBe(before);
    expect((await defs.metadata("user_total_spend"))!.buildId).toBe(ids[1]);
  });

  test("rolling back to the current version, to an unknown one, or past the oldest is an error that says so", async () => {
    await using defs = definitions();
    const ids = await buildTimes(defs, 2);
    const current = await defs.rollback("user_total_spend", { to: ids[1]! }).catch((caught: unknown) => caught);
    expect(FeatureRollbackError.isInstance(current)).toBe(true);
    expect((current as Error).message).toBe(
      `Feature 'user_total_spend' is already at version '${ids[1]}': it is the current one, so there is nothing to roll back. ` +
        `Kept versions, newest first: ${ids[1]} (current), ${ids[0]}. Roll back to another one with rollback("user_total_spend", { to: "${ids[0]}" }) (mlforge rollback user_total_spend --to ${ids[0]}).`,
    );
    const unknown = await defs.rollback("user_total_spend", { to: "0123456789abcdef" }).catch((caught: unknown) => caught);
    expect(FeatureVersionNotFoundError.isInstance(unknown)).toBe(true);
    expect((unknown as Error).message).toContain(`Kept versions, newest first: ${ids[1]}, ${ids[0]}.`);

    await defs.rollback("user_total_spend", { to: "previous" });
    await expect(defs.rollback("user_total_spend", { to: "previous" })).rejects.toThrow(`Feature 'user_total_spend' has no kept version older than the current one ('${ids[0]}') to roll back to.`);
    await expect(defs.rollback("user_total_spend", { to: "" })).rejects.toThrow(InvalidOptionError);
    await expect(defs.rollback("user_total_spend", { version: "previous" } as never)).rejects.toThrow("rollback has unknown option 'version'. Known options: to, dryRun.");
    await expect(definitions().rollback("nope", { to: "previous" })).rejects.toThrow(FeatureNotFoundError);
  });

  test("a feature never built cannot be rolled back", async () => {
    await using defs = definitions();
    await expect(defs.rollback("user_total_spend", { to: "previous" })).rejects.toThrow(FeatureNotBuiltError);
  });

  test("after a rollback, a build with the restored version's definition skips; a changed definition rebuilds", async () => {
    await using first = definitions();
    await first.build();
    const original = (await first.metadata("user_total_spend"))!.buildId;
    await using changed = definitions({ sql: "SELECT user_id, (sum(amount) * 2)::DOUBLE AS total FROM {src} GROUP BY user_id ORDER BY user_id" });
    await changed.build();
    await changed.rollback("user_total_spend", { to: original });

    const again = await first.build();
    expect(again.skipped.map((entry) => entry.name)).toEqual(["user_total_spend"]);
    expect((await first.metadata("user_total_spend"))!.buildId).toBe(original);

    const rebuilt = await changed.build();
    expect(rebuilt.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
    expect(await rowsOf(changed.read("user_total_spend"))).toEqual([
      { user_id: "u1", total: 30 },
      { user_id: "u2", total: 14 },
    ]);
    expect((await changed.metadata("user_total_spend"))!.rollback).toBeUndefined();
  });

  test("retention after a rollback keeps the current (older) version and the newest others", async () => {
    await using three = definitions({ keepVersions: 3 });
    const ids = await buildTimes(three, 3);
    await using two = definitions({ keepVersions: 2 });
    await two.rollback("user_total_spend", { to: ids[0]! });
    expect((await two.versions("user_total_spend")).map((version) => [version.buildId, version.current])).toEqual([
      [ids[2], false],
      [ids[0], true],
    ]);
  });
});
