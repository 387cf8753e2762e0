import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, encodeValues, feature, FeatureDefinitionError, KeyEncoder, OnlineSyncError } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { MemoryOnlineStoreDouble } from "./support/memory-online-store";

const users = feature({ name: "users", keys: ["user_id"], source: "/nonexistent/users.csv" }, (relation) => `SELECT * FROM ${relation}`);

function definitions(onlineStore?: MemoryOnlineStoreDouble): Definitions {
  return new Definitions({ name: "online", features: [users], offlineStore: new LocalStore("/nonexistent/store"), ...(onlineStore === undefined ? {} : { onlineStore }) });
}

test("online methods without an onlineStore say how to pass one", async () => {
  const defs = definitions();
  await expect(defs.syncOnline()).rejects.toThrow(/syncOnline needs an online store.*onlineStore: new LocalOnlineStore\("\.\/online_store"\)/);
  await expect(defs.getOnlineFeatures({ features: ["users"], entities: [] })).rejects.toThrow(FeatureDefinitionError);
  await expect(defs.close()).resolves.toBeUndefined();
});

test("build({ online: true }) without an onlineStore fails before building anything", async () => {
  // The offline store's directory does not exist: reaching it would fail differently.
  await expect(definitions().build({ online: true })).rejects.toThrow(/^build\(\{ online: true \}\) needs an online store\. Pass one to the Definitions/);
});

test("unknown and mistyped options are rejected before any store call", async () => {
  const store = new MemoryOnlineStoreDouble();
  const defs = definitions(store);
  await expect(defs.syncOnline({ feature: ["users"] } as never)).rejects.toThrow("syncOnline has unknown option 'feature'. Known options: features, tags, force, graceMs, batchRows, onProgress, signal.");
  await expect(defs.syncOnline({ graceMs: -1 })).rejects.toThrow(/'graceMs' must be a whole number/);
  await expect(defs.syncOnline({ features: ["nope"] })).rejects.toThrow(/'nope' is not defined/);
  await expect(defs.getOnlineFeatures({ features: ["users"], entities: [], limit: 1 } as never)).rejects.toThrow(/unknown option 'limit'/);
  await expect(defs.getOnlineFeatures({ features: [], entities: [] })).rejects.toThrow(/needs features/);
  await expect(defs.getOnlineFeatures({ features: ["users"], entities: [null] as never })).rejects.toThrow(/Entity 0 is null/);
  await expect(defs.build({ online: "yes" } as never)).rejects.toThrow(/'online' must be true or false/);
  expect(store.calls).toEqual([]);
  expect(() => new Definitions({ name: "x", features: [], offlineStore: new LocalStore("/nonexistent"), onlineStore: {} as never })).toThrow(/'onlineStore' is not an online store/);
});

test("a feature that was never built fails the sync with OnlineSyncError carrying the result", async () => {
  const store = new MemoryOnlineStoreDouble();
  const error = await definitions(store).syncOnline().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OnlineSyncError);
  const result = (error as OnlineSyncError).result;
  expect(result.failed.map((entry) => entry.name)).toEqual(["users"]);
  expect(result.failed[0]!.error?.message).toMatch(/not been built/);
  expect((error as Error).message).toMatch(/1 of 1 features failed to sync.*readers keep the previous build/s);
});

test("columns named like Object.prototype members come back as own properties of plain rows", async () => {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-names-"));
  try {
    const source = path.join(directory, "users.csv");
    await writeFile(source, "user_id,toString,constructor,spend\nu1,a,b,1.5\n");
    const named = feature({ name: "named", keys: ["user_id"], source }, (relation) => `SELECT * FROM ${relation}`);
    const defs = new Definitions({ name: "online", features: [named], offlineStore: new LocalStore(path.join(directory, "store")), onlineStore: new MemoryOnlineStoreDouble() });
    await defs.build();
    await defs.syncOnline();
    const [row, missing] = await defs.getOnlineFeatures({ features: ["named"], entities: [{ user_id: "u1" }, { user_id: "u2" }] });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.entries(row!)).toEqual([["user_id", "u1"], ["toString", "a"], ["constructor", "b"], ["spend", 1.5]]);
    expect(Object.entries(missing!)).toEqual([["user_id", "u2"], ["toString", null], ["constructor", null], ["spend", null]]);
    await defs.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test("a sync stores exactly encodeValues of the offline rows, for every primitive fast path and its edge values", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "mlforge-sync-bytes-"));
  try {
    const csv = path.join(dir, "n.csv");
    await writeFile(csv, `n\n${Array.from({ length: 5000 }, (_, index) => index).join("\n")}\n`);
    const edges = feature({ name: "edges", keys: ["a", "b"], source: csv }, (relation) =>
      `SELECT (n % 2500)::INTEGER AS a, 'k' || (n // 2500) AS b,
         CASE n % 7 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE WHEN 2 THEN '-inf'::DOUBLE WHEN 3 THEN -0.0::DOUBLE WHEN 4 THEN NULL ELSE n / 3 END AS dbl,
         (n / 7)::FLOAT AS flt, ((n - 2500) // 100)::TINYINT AS tiny, n::USMALLINT AS usmall, (n * 100003 - 7)::INTEGER AS int, n::UINTEGER AS uint,
         CASE n % 3 WHEN 0 THEN 9223372036854775807 - n WHEN 1 THEN -9007199254740991 + n ELSE n END::BIGINT AS big,
         (18446744073709551615 - n * (n % 2) * 1000000000000)::UBIGINT AS ubig,
         CASE WHEN n % 5 = 0 THEN NULL ELSE 'x"\\' || chr(10) || chr(1) || ' ünï 🌍 ' || n END AS text, n % 2 = 0 AS flag,
         uuid() AS id, DATE '2025-01-01' + (n % 100)::INTEGER AS day, [n, NULL] AS list, (n * 1.25)::DECIMAL(12,3) AS dec
       FROM ${relation}`,
    );
    const store = new MemoryOnlineStoreDouble();
    const defs = new Definitions({ name: "bytes", features: [edges], offlineStore: new LocalStore(path.join(dir, "store")), onlineStore: store });
    try {
      await defs.build();
      const result = await defs.syncOnline({ batchRows: 777 });
      expect(result.synced.map((item) => item.rows)).toEqual([5000]);
      const rows = await (await defs.read("edges")).rows();
      const encoder = new KeyEncoder("edges", [{ name: "a", type: "INTEGER" }, { name: "b", type: "VARCHAR" }]);
      const [namespace] = [...store.namespaces.keys()].filter((name) => name !== "mlforge.pointers");
      const stored = store.namespaces.get(namespace!)!;
      const names = Object.keys(rows[0]!).filter((name) => name !== "a" && name !== "b");
      const expected = new Map<string, string>();
      for (const row of rows) {
        const key = encoder.encodeRow(row);
        if (key !== undefined) expected.set(key, encodeValues(names.map((name) => row[name] as never)));
      }
      expect(stored.size).toBe(expected.size);
      for (const [key, value] of expected) expect([key, stored.get(key)]).toEqual([key, value]);
    } finally {
      await defs.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
