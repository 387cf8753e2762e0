// RedisOnlineStore behind Definitions when redis-server is killed and restarted: during reads and
// during a sync; and a password in the URL, which no error, result or inspection ever shows.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { createClient } from "redis";
import { OnlineSyncError, StoreAccessError, type Definitions } from "@mlforge/core";
import { RedisOnlineStore } from "@mlforge/online-redis";
import { buildNumbered, NUMBERED_FEATURE, numberedDefinitions, numberedRows, numberedSourceCsv, wholeBuild, wrapOnlineStore } from "@mlforge/online-test-suite";
import { startRedis, type StartRedisOptions, type TestRedisServer } from "@mlforge/redis-test-server";
import { eventually, rejection } from "@mlforge/test-support";

const ENTITIES = Array.from({ length: 50 }, (_, index) => ({ k: index * 7 }));

let directory: string;
let source: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-redis-faults-"));
  source = path.join(directory, "source.csv");
  await writeFile(source, numberedSourceCsv());
});

/** Every redis-server a test started, stopped after the tests however they ended (stop is safe twice): one left running keeps Jest from exiting. */
const servers: TestRedisServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await rm(directory, { recursive: true, force: true });
});

/** A redis-server of the test's own. */
async function startServer(options?: StartRedisOptions): Promise<TestRedisServer> {
  const server = await startRedis(options);
  servers.push(server);
  return server;
}

let stores = 0;
/** A fresh offline store directory. */
const offlineStore = () => path.join(directory, `offline-${++stores}`);

const read = (defs: Definitions) => defs.getOnlineFeatures({ features: [NUMBERED_FEATURE], entities: ENTITIES });

/** The failed feature's error of an `OnlineSyncError`, or the error itself. */
function featureError(error: Error): Error {
  return OnlineSyncError.isInstance(error) ? (error.result.failed[0]?.error ?? error) : error;
}

test("redis-server killed during reads: each read fails with StoreAccessError within 2 s; restarted on its port, the same Definitions serves again within 5 s", async () => {
  const server = await startServer();
  const offline = offlineStore();
  await buildNumbered(source, offline, 1);
  const defs = numberedDefinitions(new RedisOnlineStore({ url: server.url, prefix: "faults", timeout: 2_000 }), source, offline, 1);
  try {
    await defs.syncOnline();
    expect(wholeBuild(await read(defs))).toBe(1);
    await server.kill();
    for (let attempt = 0; attempt < 5; attempt++) {
      const { error, ms } = await rejection(read(defs));
      expect(error).toBeInstanceOf(StoreAccessError);
      expect(error.message).toMatch(/^RedisOnlineStore at redis:\/\/127\.0\.0\.1:\d+\/0 cannot be reached, so it could not .*Check that the server is running/);
      expect(ms).toBeLessThan(2_000);
    }
    await server.restart();
    // The restarted server is empty (nothing is saved): the same Definitions syncs again and serves.
    const started = Date.now();
    const result = await eventually(() => defs.syncOnline(), 5_000);
    expect(result.synced.map((entry) => [entry.name, entry.rows])).toEqual([[NUMBERED_FEATURE, numberedRows(1)]]);
    expect(wholeBuild(await read(defs))).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    await defs.close();
    await server.stop();
  }
});

test("redis-server killed during a sync: the sync fails with StoreAccessError; restarted, a new sync completes whole", async () => {
  const server = await startServer();
  const offline = offlineStore();
  await buildNumbered(source, offline, 1);
  let puts = 0;
  let killed: Promise<void> | undefined;
  // The server dies as the sync writes its 10th batch of rows: mid-sync, at a known point.
  const store = wrapOnlineStore(new RedisOnlineStore({ url: server.url, prefix: "faults", timeout: 2_000 }), async (method, args) => {
    if (method === "put" && args[0] !== "mlforge.pointers" && ++puts === 10) await (killed = server.kill());
  });
  const defs = numberedDefinitions(store, source, offline, 1);
  try {
    const started = Date.now();
    const { error } = await rejection(defs.syncOnline({ batchRows: 500 }));
    expect(killed).toBeDefined();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(OnlineSyncError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/1 of 1 features failed to sync.*readers keep the previous build/s);
    expect(featureError(error)).toBeInstanceOf(StoreAccessError);
    expect(featureError(error).message).toMatch(/cannot be reached, so it could not write namespace 'numbered@/);
    expect((error as OnlineSyncError).result.failed.map((entry) => [entry.name, entry.status, entry.rows])).toEqual([[NUMBERED_FEATURE, "failed", 0]]);
    await server.restart();
    await buildNumbered(source, offline, 2);
    const result = await eventually(() => defs.syncOnline({ batchRows: 500, graceMs: 0 }), 5_000);
    expect(result.synced.map((entry) => [entry.name, entry.rows])).toEqual([[NUMBERED_FEATURE, numberedRows(2)]]);
    expect(wholeBuild(await read(defs))).toBe(2);
    const namespaces = await store.listNamespaces("");
    expect(namespaces.sort()).toEqual(["mlforge.pointers", expect.stringMatching(/^numbered@/)]);
    expect(await store.count(namespaces[1]!)).toBe(numberedRows(2));
  } finally {
    await defs.close();
    await server.stop();
  }
});

test("a password in the URL never shows in messages, String(error), util.inspect, JSON of OnlineSyncError.result or read errors: server killed, wrong password", async () => {
  const password = "Sync-s3cret:pa55";
  const server = await startServer({ password });
  const offline = offlineStore();
  await buildNumbered(source, offline, 1);
  const errors: Error[] = [];
  const results: unknown[] = [];
  const all: Definitions[] = [];
  const make = (url: string, before?: (method: string, args: unknown[]) => Promise<void>) => {
    const inner = new RedisOnlineStore({ url, prefix: "secrets", timeout: 2_000 });
    const defs = numberedDefinitions(before === undefined ? inner : wrapOnlineStore(inner, before), source, offline, 1);
    all.push(defs);
    return defs;
  };
  const failed = async (promise: Promise<unknown>) => {
    const { error } = await rejection(promise);
    errors.push(error);
    if (OnlineSyncError.isInstance(error)) results.push(error.result);
    return error;
  };
  const admin = createClient({ url: server.url });
  admin.on("error", () => {});
  try {
    const right = make(server.url);
    await right.syncOnline();
    expect(wholeBuild(await read(right))).toBe(1);

    // The password changes mid-sync and every connection is dropped: the store reconnects with the old one, refused.
    let puts = 0;
    await admin.connect();
    const changing = make(server.url, async (method, args) => {
      if (method === "put" && args[0] !== "mlforge.pointers" && ++puts === 5) {
        await admin.configSet("requirepass", `${password}-new`);
        await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
      }
    });
    const refusedSync = await failed(changing.syncOnline({ force: true, batchRows: 500 }));
    expect(OnlineSyncError.isInstance(refusedSync)).toBe(true);
    expect(featureError(refusedSync)).toBeInstanceOf(StoreAccessError);
    await failed(read(changing));
    await failed(read(right));
    await admin.configSet("requirepass", password);

    // A wrong password from the start.
    const wrong = make(`redis://:${encodeURIComponent(`${password}-wrong`)}@127.0.0.1:${server.port}`);
    expect((await failed(wrong.syncOnline())).message).toContain("the credentials were refused");
    await failed(read(wrong));

    // The server killed: mid-sync, then during reads.
    let writes = 0;
    const dying = make(server.url, async (method, args) => {
      if (method === "put" && args[0] !== "mlforge.pointers" && ++writes === 5) await server.kill();
    });
    const killedSync = await failed(dying.syncOnline({ force: true, batchRows: 500 }));
    expect(OnlineSyncError.isInstance(killedSync)).toBe(true);
    await failed(read(right));
    await failed(right.syncOnline({ force: true }));
    await failed(make(server.url).syncOnline());

    expect(errors.length).toBe(9);
    expect(results.length).toBe(2);
    const shown: string[] = results.map((result) => JSON.stringify(result));
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      shown.push(error.message, String(error), error.stack ?? "", inspect(error, { depth: 10 }), JSON.stringify(error));
      for (let cause: unknown = featureError(error); cause !== undefined; cause = (cause as Error).cause) shown.push(String(cause), inspect(cause, { depth: 10 }));
    }
    for (const text of shown) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
      expect(text).not.toContain("s3cret");
    }
    // The results are still useful: they name the feature and the failure.
    expect(shown[0]).toContain(NUMBERED_FEATURE);
  } finally {
    await admin.close().catch(() => admin.destroy());
    await Promise.all(all.map((defs) => defs.close()));
    await server.stop();
  }
});
