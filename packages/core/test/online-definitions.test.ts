import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, FeatureDefinitionError, OnlineSyncError } from "@mlforge/core";
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
