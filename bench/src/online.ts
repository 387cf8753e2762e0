// Online cases: reads (getOnlineFeatures against the raw HMGETs / LMDB gets of the same stored bytes)
// and syncs (syncOnline against raw DuckDB streaming plus pipelined HSETs into Redis).
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { Definitions, feature, type Feature, type OnlineStore } from "@mlforge/core";
import { LocalOnlineStore } from "@mlforge/online-local";
import { RedisOnlineStore } from "@mlforge/online-redis";
import { LocalStore } from "@mlforge/store-local";
import { open } from "lmdb";
import { createClient } from "redis";

/** Options of the online cases, from the runner. */
export interface OnlineCaseOptions {
  /** `redis://127.0.0.1:<port>` of the benchmark's own redis-server. */
  redisUrl: string;
  /** The generated values Parquet (user_id plus 10 value columns). */
  values: string;
  /** The LocalStore directory the online features are built into from `values`. */
  store: string;
  /** A fresh directory the case may write into. */
  out: string;
  /** Read cases: calls per side and batch size (after warm-up). */
  calls?: number;
  /** Read cases: entities in `values`. */
  entities?: number;
  /** Read cases: warm-up calls per side and batch size. */
  warmup?: number;
}

/** Prefix of every Redis key RedisOnlineStore writes (its default), used by the raw side for the same layout. */
export const PREFIX = "mlforge";
/** Namespace of the pointer entries (core's `POINTER_NAMESPACE`). */
export const POINTERS = "mlforge.pointers";
/** LMDB key separator of LocalOnlineStore: `<namespace>\0<key>`. */
const SEPARATOR = "\u0000";
/** Fields per HSET, and HSETs in flight at once, on the raw side: RedisOnlineStore's own settings. */
const FIELDS_PER_COMMAND = 1000;
const COMMANDS_IN_FLIGHT = 64;
/** Rows per batch read from DuckDB on both sides (syncOnline's default `batchRows`). */
const BATCH_ROWS = 2048;

/** The synced feature: every entity, 10 value columns (6 DOUBLE, 2 INTEGER, 2 VARCHAR), no timestamp. */
export const SYNC_FEATURE = "online_values";
/** The read features: five features of the same entities, 10 columns each under their own names (50 columns). */
export const READ_FEATURES = [0, 1, 2, 3, 4].map((index) => `online_read_${index}`);
export const VALUE_COLUMNS = Array.from({ length: 10 }, (_, index) => `v${index}`);

export const userId = (index: number) => `user_${String(index).padStart(9, "0")}`;

/** Writes `count` deterministic entities with 10 value columns to `file` (skipped when present). */
export async function writeOnlineValues(count: number, file: string): Promise<void> {
  if (await stat(file).catch(() => undefined)) return;
  await mkdir(path.dirname(file), { recursive: true });
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const doubles = [0, 1, 2, 3, 4, 5].map((index) => `(hash(i, 'v${index}') % 10000000)::DOUBLE / 100 AS v${index}`);
    const integers = [6, 7].map((index) => `(hash(i, 'v${index}') % 100000)::INTEGER AS v${index}`);
    const texts = [8, 9].map((index) => `'category_' || (hash(i, 'v${index}') % 500)::VARCHAR AS v${index}`);
    await connection.run(`
      COPY (
        SELECT 'user_' || lpad(i::VARCHAR, 9, '0') AS user_id, ${[...doubles, ...integers, ...texts].join(", ")}
        FROM range(${count}) AS r(i)
      ) TO '${file}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The sync feature and the five read features, all reading `values`. */
function onlineFeatures(values: string): Feature[] {
  const sync = feature({ name: SYNC_FEATURE, keys: ["user_id"], source: values }, (source) => `SELECT * FROM ${source}`);
  const reads = READ_FEATURES.map((name, index) =>
    feature({ name, keys: ["user_id"], source: values }, (source) => `SELECT user_id, ${VALUE_COLUMNS.map((column) => `${column} AS r${index}_${column}`).join(", ")} FROM ${source}`),
  );
  return [sync, ...reads];
}

/** The benchmark's definitions of the online features over `values`, stored in the LocalStore `store`, served from `onlineStore` when given. */
export function onlineDefinitions({ values, store }: { values: string; store: string }, onlineStore?: OnlineStore): Definitions {
  return new Definitions({ name: "bench", features: onlineFeatures(values), offlineStore: new LocalStore(store), ...(onlineStore === undefined ? {} : { onlineStore }) });
}

/** Builds the online features from `values` into the LocalStore `store` (the sync feature or the read features). */
async function onlinePrepare(options: OnlineCaseOptions, names: readonly string[]): Promise<void> {
  const defs = onlineDefinitions(options);
  try {
    await defs.build({ features: [...names] });
  } finally {
    await defs.close();
  }
}

/** mlforge: `defs.syncOnline({ force: true })` of the sync feature into Redis. */
async function syncMlforge(options: OnlineCaseOptions): Promise<void> {
  const defs = onlineDefinitions(options, new RedisOnlineStore({ url: options.redisUrl }));
  try {
    const result = await defs.syncOnline({ features: [SYNC_FEATURE], force: true });
    if (result.synced.length !== 1) throw new Error(`syncOnline synced ${result.synced.length} features, expected 1.`);
  } finally {
    await defs.close();
  }
}

/**
 * Raw: the same stored Parquet read with DuckDB's streaming result in chunks of 2048 rows, each row
 * written as `HSET mlforge:{<namespace>} <user_id> <JSON array of the values>` (the bytes mlforge
 * writes for these column types), 1000 fields per HSET, pipelined with up to 64 HSETs in flight.
 */
async function syncRaw(options: OnlineCaseOptions): Promise<void> {
  const client = createClient({ url: options.redisUrl });
  await client.connect();
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const key = `${PREFIX}:{${SYNC_FEATURE}@raw}`;
  let rows = 0;
  try {
    const result = await connection.stream(`SELECT * FROM read_parquet('${path.join(options.store, `${SYNC_FEATURE}.parquet`)}')`);
    const inFlight: Array<Promise<number>> = [];
    for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const fields: Array<[string, string]> = [];
      for (const row of chunk.getRows()) fields.push([row[0] as string, JSON.stringify(row.slice(1))]);
      for (let start = 0; start < fields.length; start += FIELDS_PER_COMMAND) {
        inFlight.push(client.hSet(key, fields.slice(start, start + FIELDS_PER_COMMAND)));
        if (inFlight.length === COMMANDS_IN_FLIGHT) await Promise.all(inFlight.splice(0));
      }
      rows += fields.length;
    }
    await Promise.all(inFlight);
    const stored = await client.hLen(key);
    if (stored !== rows) throw new Error(`Raw sync wrote ${rows} rows but the hash holds ${stored}.`);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await client.close();
  }
}

/** A deterministic pseudo-random sequence (LCG), so that both sides of a read ask for the same entities. */
export function* randomIndexes(limit: number, seed: number): Generator<number> {
  let state = seed >>> 0;
  for (;;) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    yield state % limit;
  }
}

interface Latencies {
  p50: number;
  p99: number;
  mean: number;
  calls: number;
}

function summarize(samples: number[]): Latencies {
  const sorted = Float64Array.from(samples).sort();
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((sum, value) => sum + value, 0) / samples.length, calls: samples.length };
}

/** One read comparison's result. */
export interface ReadResult {
  store: "redis" | "local";
  batch: number;
  mlforge: Latencies;
  raw: Latencies;
}

/**
 * Reads in one process: syncs the five read features into the store, then for 1 and 100 entities
 * per call warms up and measures `calls` calls of each side in alternating blocks.
 */
async function read(options: OnlineCaseOptions, kind: "redis" | "local"): Promise<{ reads: ReadResult[] }> {
  const calls = options.calls ?? 20_000;
  const entityCount = options.entities!;
  const location = path.join(options.out, "online_store");
  const onlineStore = kind === "redis" ? new RedisOnlineStore({ url: options.redisUrl }) : new LocalOnlineStore(location);
  const defs = onlineDefinitions(options, onlineStore);
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => defs.close()];
  try {
    await defs.syncOnline({ features: READ_FEATURES, force: true });

    // The raw side: the namespaces the pointers name, and a function fetching one call's values.
    let rawGet: (keys: string[]) => Promise<Array<Array<string | null | undefined>>> | Array<Array<string | null | undefined>>;
    if (kind === "redis") {
      const client = createClient({ url: options.redisUrl });
      await client.connect();
      cleanups.push(() => client.close());
      const pointers = await client.hmGet(`${PREFIX}:{${POINTERS}}`, READ_FEATURES);
      const hashes = pointers.map((text) => `${PREFIX}:{${(JSON.parse(text!) as { namespace: string }).namespace}}`);
      // Every HMGET issued in one tick: node-redis writes them as one pipeline.
      rawGet = (keys) => Promise.all(hashes.map((hash) => client.hmGet(hash, keys)));
    } else {
      const root = open({ path: location, noSubdir: false, maxDbs: 4 });
      cleanups.push(() => root.close());
      const entries = root.openDB<string, string>({ name: "entries", encoding: "string" });
      const prefixes = READ_FEATURES.map((name) => `${(JSON.parse(entries.get(`${POINTERS}${SEPARATOR}${name}`)!) as { namespace: string }).namespace}${SEPARATOR}`);
      rawGet = (keys) => prefixes.map((prefix) => keys.map((key) => entries.get(prefix + key)));
    }

    const reads: ReadResult[] = [];
    for (const batch of [1, 100]) {
      // 1024 different entity lists, cycled; the same lists on both sides.
      const random = randomIndexes(entityCount, batch * 7919);
      const lists = Array.from({ length: 1024 }, () => Array.from({ length: batch }, () => userId(random.next().value!)));
      const entityLists = lists.map((ids) => ids.map((id) => ({ user_id: id })));
      const request = { features: READ_FEATURES };

      // Both sides must return the same stored values.
      for (let index = 0; index < 8; index++) {
        const rows = await defs.getOnlineFeatures({ ...request, entities: entityLists[index]! });
        const raw = await rawGet(lists[index]!);
        for (const [row, output] of rows.entries()) {
          if (Object.keys(output).length !== 51) throw new Error(`getOnlineFeatures returned ${Object.keys(output).length} columns, expected 51.`);
          for (const [feature, values] of raw.entries()) {
            const decoded = JSON.parse(values[row]!) as unknown[];
            const ours = VALUE_COLUMNS.map((column) => output[`r${feature}_${column}`]);
            if (JSON.stringify(ours) !== JSON.stringify(decoded)) throw new Error(`mlforge and raw disagree on ${lists[index]![row]}: ${JSON.stringify(ours)} vs ${JSON.stringify(decoded)}.`);
          }
        }
      }

      let next = 0;
      const mlforgeBlock = async (count: number, samples: number[] | undefined) => {
        for (let call = 0; call < count; call++) {
          const entities = entityLists[next++ & 1023]!;
          const started = performance.now();
          await defs.getOnlineFeatures({ ...request, entities });
          samples?.push(performance.now() - started);
        }
      };
      const rawBlock = async (count: number, samples: number[] | undefined) => {
        for (let call = 0; call < count; call++) {
          const keys = lists[next++ & 1023]!;
          const started = performance.now();
          await rawGet(keys);
          samples?.push(performance.now() - started);
        }
      };
      const blockSize = Math.min(1000, Math.max(100, Math.floor(calls / 20)));
      // Warm-up of each side, alternating.
      for (let warm = 0; warm < (options.warmup ?? Math.max(1000, calls / 10)); warm += blockSize) {
        await mlforgeBlock(blockSize, undefined);
        await rawBlock(blockSize, undefined);
      }
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let round = 0; ours.length < calls; round++) {
        const count = Math.min(blockSize, calls - ours.length);
        if (round % 2 === 0) {
          await mlforgeBlock(count, ours);
          await rawBlock(count, theirs);
        } else {
          await rawBlock(count, theirs);
          await mlforgeBlock(count, ours);
        }
      }
      reads.push({ store: kind, batch, mlforge: summarize(ours), raw: summarize(theirs) });
    }
    return { reads };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await rm(location, { recursive: true, force: true });
  }
}

/** The online cases, by name (see `cases.ts`). */
export const onlineCases = {
  "online-prepare-sync": (options: OnlineCaseOptions) => onlinePrepare(options, [SYNC_FEATURE]),
  "online-prepare-read": (options: OnlineCaseOptions) => onlinePrepare(options, READ_FEATURES),
  "online-sync-mlforge": syncMlforge,
  "online-sync-raw": syncRaw,
  "online-read-redis": (options: OnlineCaseOptions) => read(options, "redis"),
  "online-read-local": (options: OnlineCaseOptions) => read(options, "local"),
};
