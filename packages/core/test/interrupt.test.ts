// An AbortSignal reaches every long step: the store's data write (putFile), the training-data
// queries and the training-data file write. Stopped work rejects with the signal's reason, writes
// nothing, keeps the previous version and leaves no staged or temporary file.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, StoreAccessError, type FeatureBuildResult, type OfflineStore, type PutFileOptions } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { interceptStore } from "@mlforge/store-test-suite";
import { literal, query } from "@mlforge/test-support";

// DuckDB work on a busy machine: more than Jest's default 5 s.
jest.setTimeout(30_000);

let directory: string;
let store: string;
let temporary: string;
let users: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-interrupt-"));
  store = path.join(directory, "store");
  temporary = path.join(directory, "tmp");
  users = path.join(directory, "users.parquet");
  await query(`COPY (SELECT range AS user_id FROM range(200000)) TO ${literal(users)} (FORMAT parquet)`);
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const numbered = (name: string, version: number) =>
  feature({ name, keys: ["user_id"], source: users }, (source) => `SELECT user_id, user_id * ${version} AS ${name}_value FROM ${source}`);

function definitions(version: number, offlineStore: OfflineStore = new LocalStore(store)): Definitions {
  return new Definitions({ name: "interrupt", features: [numbered("first", version), numbered("second", version)], offlineStore, engine: { tempDirectory: temporary } });
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => "resolved",
    (error: unknown) => error,
  );
}

/** Every file under the test's directory but the users file, relative to it. */
async function files(): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
    .filter((file) => file !== "users.parquet")
    .sort();
}

/** True for the data keys of feature `name`: its current data and its kept versions. */
function isDataOf(name: string, key: string): boolean {
  return key === `${name}.parquet` || (key.startsWith(`_versions/${name}/`) && key.endsWith(".parquet"));
}

async function values(name: string): Promise<number> {
  const [row] = await query(`SELECT max(${name}_value)::BIGINT AS value FROM read_parquet(${literal(path.join(store, `${name}.parquet`))})`);
  return Number(row!.value);
}

describe("build", () => {
  test("aborted while the last feature's data is written: the store's write gets the signal, the build rejects with the reason", async () => {
    await definitions(1).build();
    const before = (await files()).filter((file) => file.includes("second"));
    const controller = new AbortController();
    const reason = new Error("Stopped by the test.");
    const given: Array<PutFileOptions | undefined> = [];
    const local = new LocalStore(store);
    // A data write that runs until aborted, as a long upload does; it removes its file, as stores do.
    const slow = interceptStore<OfflineStore>(local, {
      putFile: async (key, file, options) => {
        given.push(options);
        if (!isDataOf("second", key)) return local.putFile(key, file);
        controller.abort(reason);
        await rm(file, { force: true });
        throw options!.signal!.reason;
      },
    });
    const ended: FeatureBuildResult[] = [];
    const error = await rejection(
      definitions(2, slow).build({ force: true, signal: controller.signal, onProgress: (event) => (event.type === "end" ? ended.push(event.result) : undefined) }),
    );

    expect(error).toBe(reason);
    expect(given.map((options) => options?.signal)).toEqual([controller.signal, controller.signal]);
    // The first feature was published; the stopped one is no failure and keeps its previous version.
    expect(ended.map((entry) => [entry.name, entry.status])).toEqual([["first", "built"]]);
    expect([await values("first"), await values("second")]).toEqual([2 * 199999, 199999]);
    // Nothing of the stopped feature was stored (no version either), and nothing staged is left.
    expect((await files()).filter((file) => file.includes("second"))).toEqual(before);
    expect((await files()).filter((file) => path.basename(file).startsWith(".") || file.startsWith("tmp/"))).toEqual([]);
  });

  test("a stopped write that left something behind ends its feature as failed, saying so; the build still rejects with the reason", async () => {
    const controller = new AbortController();
    const reason = new Error("Stopped by the test.");
    const local = new LocalStore(store);
    const leftover = new StoreAccessError("The upload was stopped, and its incomplete multipart upload was left for the bucket's lifecycle rule.");
    const leaving = interceptStore<OfflineStore>(local, {
      putFile: async (key, file) => {
        if (!isDataOf("first", key)) return local.putFile(key, file);
        controller.abort(reason);
        await rm(file, { force: true });
        throw leftover;
      },
    });
    const ended: FeatureBuildResult[] = [];
    const error = await rejection(definitions(1, leaving).build({ signal: controller.signal, onProgress: (event) => (event.type === "end" ? ended.push(event.result) : undefined) }));
    expect(error).toBe(reason);
    expect(ended.map((entry) => [entry.name, entry.status, entry.error])).toEqual([["first", "failed", leftover]]);
    // The second feature was not published either: it was computed, then dropped.
    expect(await files()).toEqual([]);
  });
});

describe("training data", () => {
  test("getTrainingData with an aborted signal rejects with its reason and leaves no temporary file", async () => {
    await definitions(1).build();
    const before = await files();
    const reason = new Error("Stopped by the test.");
    const error = await rejection(definitions(1).getTrainingData({ features: ["first"], entities: [{ user_id: 1 }], signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
    expect(await files()).toEqual(before);
  });

  test("writeParquet stopped mid-write keeps the previous file and leaves nothing staged", async () => {
    await definitions(1).build();
    const entities = path.join(directory, "entities.parquet");
    await query(`COPY (SELECT range % 200000 AS user_id FROM range(2000000)) TO ${literal(entities)} (FORMAT parquet)`);
    const out = path.join(directory, "out", "train.parquet");
    const defs = definitions(1);
    const frame = await defs.getTrainingData({ features: ["first", "second"], entities });
    const controller = new AbortController();
    const reason = new Error("Stopped by the test.");
    const writing = rejection(frame.writeParquet(out, { signal: controller.signal }));
    // Aborted once DuckDB has created the staged file beside the target.
    let settled = false;
    void writing.then(() => (settled = true));
    while ((await readdir(path.dirname(out)).catch(() => [])).length === 0 && !settled) await new Promise((resolve) => setTimeout(resolve, 2));
    const aborted = performance.now();
    controller.abort(reason);
    expect(await writing).toBe(reason);
    expect(performance.now() - aborted).toBeLessThan(2_000);
    expect(await readdir(path.dirname(out))).toEqual([]);

    // A write that is not stopped works, and a previous file stays whole when the next write is stopped at once.
    await frame.writeParquet(out);
    const written = await readFile(out);
    expect(await rejection(frame.writeParquet(out, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    // (Buffers compared as booleans: Jest's deep equality of megabytes takes minutes.)
    expect((await readFile(out)).equals(written)).toBe(true);
    expect(await readdir(path.dirname(out))).toEqual(["train.parquet"]);
    await frame.close();
  });
});
