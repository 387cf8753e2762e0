import { DuckDBTypeId, type DuckDBDataChunk, type JS } from "@duckdb/node-api";
import type { Column, Engine } from "../engine";
import { FeatureDefinitionError, MlforgeError, StoreAccessError } from "../errors";
import { errorMessage } from "../errors/error-message";
import type { Feature } from "../feature";
import type { OfflineStore } from "../offline-store";
import type { OnlineStore } from "../online-store";
import { quoteIdentifier, quoteLiteral } from "../sql";
import { openStoredFeatures, readFooter } from "../stored-feature";
import { toJavaScript } from "../value-decoder";
import { KeyEncoder } from "./key-codec";
import { namespacePrefix, newSyncId, parsePointer, POINTER_NAMESPACE, syncIdOf, type OnlinePointer } from "./online-pointer";
import type { FeatureSyncResult } from "./online-sync-result";
import { encodeValue } from "./value-codec";
import { quotePath } from "../literal-path";

/** What syncing one feature needs besides the feature. */
export interface SyncContext {
  store: OnlineStore;
  offlineStore: OfflineStore;
  engine: Engine;
  force: boolean;
  graceMs: number;
  batchRows: number;
  signal: AbortSignal | undefined;
  /** Runs `work` after `delayMs` in the background (an unref'd timer), unless the owner is closed first. */
  later: (delayMs: number, work: () => Promise<void>) => void;
}

const timeTypes = new Set(["DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"]);

/** Runs a store call, turning anything but an mlforge error into a `StoreAccessError` naming the store. */
export async function storeCall<T>(store: OnlineStore, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (MlforgeError.isInstance(error)) throw error;
    throw new StoreAccessError(`${store.description} failed to ${what}: ${errorMessage(error)}. Check that the online store is reachable and writable.`, { cause: error });
  }
}

/** The pointer entry of `feature`, read from the store now. */
export async function readPointer(store: OnlineStore, feature: string): Promise<OnlinePointer | undefined> {
  const [values] = await storeCall(store, "read the pointer of a feature", () => store.get([{ namespace: POINTER_NAMESPACE, keys: [feature] }]));
  return parsePointer(values?.[0]);
}

/**
 * Removes a feature's namespaces that no reader can need: every one but the current, a newer one
 * (a sync under way), and the previous one while its grace period runs. This is how a killed
 * sync's half-written namespace, and a previous build whose syncing process exited before its
 * grace period ended, are removed by the next sync.
 *
 * Nothing is removed while the current pointer is younger than its grace period (unless
 * `heldForGrace`: the caller knows the pointer has been the current one for that long). Why:
 * `put` is not compare-and-swap, so when two syncs race, one's pointer can be current for a
 * moment and then be overwritten by the other's, whose `previous` names the build *it* read
 * (sync B reads build 0, A switches to build A, B switches to build B with `previous` 0; or A
 * replaces 0 with A and B replaces A with B, `previous` A). The build in between (A, resp. 0) was
 * current moments ago, readers hold it in their cached pointer (read without a look-up for up to
 * a second), yet it is neither current nor `previous`: deleting it as "never current" at once is
 * what gave readers an all-null answer. Every namespace older than the current pointer stopped
 * being current when that pointer was written, so once the pointer is `graceMs` old they are
 * all past their grace period.
 */
async function removeStaleNamespaces(store: OnlineStore, feature: string, current: OnlinePointer | undefined, heldForGrace = false): Promise<void> {
  const now = Date.now();
  if (!heldForGrace && current !== undefined && now < Date.parse(current.syncedAt) + current.graceMs) return;
  const namespaces = await storeCall(store, "list namespaces", () => store.listNamespaces(namespacePrefix(feature)));
  for (const namespace of namespaces) {
    const syncId = syncIdOf(feature, namespace);
    if (syncId === undefined || namespace === current?.namespace) continue;
    if (current !== undefined && syncId > current.syncId) continue;
    if (namespace === current?.previous && now < Date.parse(current.previousUntil ?? "")) continue;
    await storeCall(store, "delete a namespace", () => store.deleteNamespace(namespace));
  }
}

/** The stored build of a feature as the sync reads it. */
interface StoredBuild {
  path: string;
  buildId: string;
  builtAt: string;
  schema: Column[];
  keys: string[];
  timestamp: string | undefined;
}

async function storedBuild(feature: Feature, context: SyncContext): Promise<StoredBuild> {
  const [stored] = await openStoredFeatures(context.engine, context.offlineStore, [feature.name]);
  const { path, metadata } = stored!;
  return {
    path,
    // A file written before footers existed has no build id: it is then never skipped.
    buildId: metadata?.buildId ?? "",
    builtAt: metadata?.builtAt ?? "",
    schema: metadata?.schema ?? (await context.engine.columns(`SELECT * FROM read_parquet(${quotePath(path)})`)),
    keys: metadata?.keys ?? [...feature.keys],
    timestamp: metadata !== undefined ? metadata.timestamp : feature.timestamp,
  };
}

function column(feature: string, schema: readonly Column[], name: string, role: string): Column {
  const found = schema.find((item) => item.name === name);
  if (found === undefined) throw new FeatureDefinitionError(`Feature '${feature}' has ${role} '${name}', which its stored data lacks (columns: ${schema.map((item) => item.name).join(", ")}). Rebuild it.`);
  return found;
}

/** The query of the rows a sync writes: every row, or with a timestamp the latest per key (ties: the row stored last). */
function rowsQuery(build: StoredBuild): string {
  const keys = build.keys.map(quoteIdentifier);
  const where = keys.map((key) => `${key} IS NOT NULL`).join(" AND ");
  const latest =
    build.timestamp === undefined
      ? ""
      : ` QUALIFY row_number() OVER (PARTITION BY ${keys.join(", ")} ORDER BY ${quoteIdentifier(build.timestamp)} DESC NULLS LAST, file_row_number DESC) = 1`;
  return `SELECT ${build.schema.map((item) => quoteIdentifier(item.name)).join(", ")} FROM read_parquet(${quotePath(build.path)}, file_row_number = true) WHERE ${where}${latest}`;
}

/** How a sync reads and encodes a column: DuckDB's own values for the primitive types, else `toJavaScript`. */
enum Kind {
  /** DOUBLE, FLOAT: a number, possibly NaN, ±Infinity or -0. */
  Float,
  /** 8- to 32-bit integers: a number. */
  Integer,
  /** BIGINT, UBIGINT: a bigint (a number for `toJavaScript` when it fits exactly). */
  BigInt,
  Varchar,
  Boolean,
  /** Every other type: converted by `toJavaScript`. */
  Other,
}

const kinds = new Map<DuckDBTypeId, Kind>([
  [DuckDBTypeId.DOUBLE, Kind.Float],
  [DuckDBTypeId.FLOAT, Kind.Float],
  [DuckDBTypeId.TINYINT, Kind.Integer],
  [DuckDBTypeId.SMALLINT, Kind.Integer],
  [DuckDBTypeId.INTEGER, Kind.Integer],
  [DuckDBTypeId.UTINYINT, Kind.Integer],
  [DuckDBTypeId.USMALLINT, Kind.Integer],
  [DuckDBTypeId.UINTEGER, Kind.Integer],
  [DuckDBTypeId.BIGINT, Kind.BigInt],
  [DuckDBTypeId.UBIGINT, Kind.BigInt],
  [DuckDBTypeId.VARCHAR, Kind.Varchar],
  [DuckDBTypeId.BOOLEAN, Kind.Boolean],
]);

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/** Column `index` of `chunk`: DuckDB's values for a primitive kind, else `toJavaScript`'s. */
function columnValues(chunk: DuckDBDataChunk, index: number, kind: Kind): unknown[] {
  return kind === Kind.Other ? chunk.convertColumnValues(index, toJavaScript) : chunk.getColumnValues(index);
}

/**
 * What `encodeValues` puts in its array for a value of `kind` (DuckDB's value for a primitive kind,
 * `toJavaScript`'s otherwise): the value itself when JSON holds it as it is, so that
 * `JSON.stringify` of a row of these gives exactly `encodeValues`' bytes.
 */
function cell(kind: Kind, value: unknown): unknown {
  switch (kind) {
    case Kind.Float:
      return value === null || (Number.isFinite(value) && !Object.is(value, -0)) ? value : encodeValue(value as number);
    case Kind.BigInt:
      return value === null || ((value as bigint) <= maxSafe && (value as bigint) >= -maxSafe) ? (value === null ? null : Number(value)) : encodeValue(value as bigint);
    case Kind.Other:
      return encodeValue(value as JS);
    default:
      return value;
  }
}

/**
 * Writes the build's rows into `namespace`; returns how many. DuckDB's chunks are read by column
 * (no row object per row; DuckDB's own values for primitive types) and each row's values written
 * as the bytes `encodeValues` gives. One batch's `put` stays in flight while DuckDB streams and
 * encodes the next, so the store's round trips overlap the encoding; puts are issued in order, and
 * at most one is pending, so memory holds two batches at most.
 */
async function writeRows(build: StoredBuild, encoder: KeyEncoder, values: readonly Column[], namespace: string, context: SyncContext): Promise<number> {
  const { store } = context;
  let rows = 0;
  const position = (name: string) => build.schema.findIndex((item) => item.name === name);
  const keyIndexes = encoder.keys.map((key) => position(key.name));
  const valueIndexes = values.map((item) => position(item.name));
  let keyKinds: Kind[] | undefined;
  let valueKinds: Kind[] | undefined;
  let pending: Promise<void> | undefined;
  let entries: Array<[string, string]> = [];
  let batched = 0;
  const flush = async () => {
    const written = entries;
    entries = [];
    batched = 0;
    await pending;
    pending = storeCall(store, "write rows", () => store.put(namespace, written));
    // Handled below (awaited next turn or in finally): never an unhandled rejection meanwhile.
    pending.catch(() => undefined);
    rows += written.length;
  };
  try {
    for await (const chunk of context.engine.chunks(rowsQuery(build))) {
      context.signal?.throwIfAborted();
      const kindOf = (index: number) => kinds.get(chunk.getColumnVector(index).type.typeId) ?? Kind.Other;
      keyKinds ??= keyIndexes.map(kindOf);
      valueKinds ??= valueIndexes.map(kindOf);
      const keyColumns = keyIndexes.map((index, at) => columnValues(chunk, index, keyKinds![at]!));
      const valueColumns = valueIndexes.map((index, at) => columnValues(chunk, index, valueKinds![at]!));
      const count = chunk.rowCount;
      const width = valueColumns.length;
      const cells = new Array<unknown>(width);
      for (let row = 0; row < count; row++) {
        const key = encoder.encodeColumns(keyColumns, row);
        if (key !== undefined) {
          for (let column = 0; column < width; column++) {
            const kind = valueKinds[column]!;
            const value = valueColumns[column]![row];
            cells[column] = kind === Kind.Integer || kind === Kind.Varchar || kind === Kind.Boolean ? value : cell(kind, value);
          }
          entries.push([key, JSON.stringify(cells)]);
        }
        if (++batched === context.batchRows) {
          await flush();
          context.signal?.throwIfAborted();
        }
      }
    }
    if (batched > 0) await flush();
    await pending;
  } finally {
    // On failure, let the last put settle before the caller removes the namespace.
    await pending?.catch(() => undefined);
  }
  return rows;
}

/**
 * Syncs one feature: writes the offline store's current build into a fresh namespace, then
 * switches readers over by rewriting the feature's pointer entry, never back to an older sync.
 * On failure the namespace it wrote is removed and readers keep the previous build.
 */
export async function syncFeature(feature: Feature, context: SyncContext): Promise<FeatureSyncResult> {
  const started = performance.now();
  const { store } = context;
  const result = (status: FeatureSyncResult["status"], buildId: string, rows: number): FeatureSyncResult => ({
    name: feature.name,
    status,
    buildId,
    rows,
    durationMs: performance.now() - started,
  });

  // The offline build may be replaced while it is streamed: then sync the new one (a few times at most).
  for (let attempt = 1; ; attempt++) {
    const build = await storedBuild(feature, context);
    const current = await readPointer(store, feature.name);
    if (!context.force && current !== undefined && build.buildId !== "" && current.buildId === build.buildId) {
      await removeStaleNamespaces(store, feature.name, current);
      return result("skipped", current.buildId, current.rows);
    }
    const keys = build.keys.map((name) => column(feature.name, build.schema, name, "key column"));
    const encoder = new KeyEncoder(feature.name, keys);
    if (build.timestamp !== undefined) {
      const timestamp = column(feature.name, build.schema, build.timestamp, "timestamp");
      if (feature.onlineTtl !== undefined && !timeTypes.has(timestamp.type)) {
        throw new FeatureDefinitionError(`Feature '${feature.name}' has an onlineTtl, but its timestamp '${timestamp.name}' is ${timestamp.type}. Make it a DATE or TIMESTAMP in the feature's SQL.`);
      }
    }
    const values = build.schema.filter((item) => !build.keys.includes(item.name));

    const syncId = newSyncId();
    const namespace = `${namespacePrefix(feature.name)}${syncId}`;
    let rows: number;
    try {
      rows = await writeRows(build, encoder, values, namespace, context);
      const after = await readFooter(context.engine, build.path);
      if ((after?.buildId ?? "") !== build.buildId && attempt < 3) {
        await storeCall(store, "delete a namespace", () => store.deleteNamespace(namespace));
        continue;
      }
    } catch (error) {
      // Best effort: a namespace left behind is removed by the next sync.
      await store.deleteNamespace(namespace).catch(() => undefined);
      throw error;
    }

    const switched = await switchTo(feature.name, context, {
      formatVersion: 1,
      feature: feature.name,
      namespace,
      syncId,
      buildId: build.buildId,
      builtAt: build.builtAt,
      syncedAt: "",
      rows,
      keys,
      columns: values,
      ...(build.timestamp === undefined ? {} : { timestamp: build.timestamp }),
      graceMs: context.graceMs,
    });
    return switched === undefined ? result("synced", build.buildId, rows) : result("skipped", switched.buildId, switched.rows);
  }
}

/**
 * Points readers at the new namespace unless a newer sync already did; returns the newer sync's
 * pointer when this one lost (its namespace then removed). `put` is not compare-and-swap, so the
 * pointer is read back: a newer sync overwritten by this one's `put` writes its own again.
 */
async function switchTo(feature: string, context: SyncContext, pointer: OnlinePointer): Promise<OnlinePointer | undefined> {
  const { store } = context;
  const removeOwn = (delayMs: number) => {
    const work = () => storeCall(store, "delete a namespace", () => store.deleteNamespace(pointer.namespace));
    if (delayMs <= 0) return work();
    context.later(delayMs, work);
    return Promise.resolve();
  };
  let current = await readPointer(store, feature);
  // Every build readers may be on because this sync saw it current: when a concurrent sync's
  // pointer is overwritten and rewritten, the pointer's one `previous` no longer names them all.
  const replaced = new Set<string>();
  for (let attempt = 1; attempt <= 5; attempt++) {
    if (current !== undefined && current.syncId > pointer.syncId) {
      // A newer sync won; readers may have seen this one's pointer only if it was written.
      await removeOwn(attempt === 1 ? 0 : context.graceMs);
      return current;
    }
    const previous = current?.namespace === pointer.namespace ? current.previous : current?.namespace;
    if (previous !== undefined) replaced.add(previous);
    const now = Date.now();
    const written: OnlinePointer = {
      ...pointer,
      syncedAt: new Date(now).toISOString(),
      ...(previous === undefined ? {} : { previous, previousUntil: new Date(now + context.graceMs).toISOString() }),
    };
    await storeCall(store, "switch readers to the new build", () => store.put(POINTER_NAMESPACE, [[feature, JSON.stringify(written)]]));
    current = await readPointer(store, feature);
    if (current?.syncId !== pointer.syncId) continue;
    for (const namespace of replaced) {
      const removePrevious = () => storeCall(store, "delete a namespace", () => store.deleteNamespace(namespace));
      if (context.graceMs <= 0) await removePrevious();
      else context.later(context.graceMs, removePrevious);
    }
    if (context.graceMs <= 0) await removeStaleNamespaces(store, feature, current);
    else {
      // Stale namespaces only once this pointer has been current for the grace period (see
      // removeStaleNamespaces). Only this sync writes its pointer, and not after this read-back:
      // if the pointer still names this sync then, it has named it all along.
      const afterGrace = async (): Promise<void> => {
        const now = await readPointer(store, feature);
        if (now?.syncId === pointer.syncId) return removeStaleNamespaces(store, feature, now, true);
        // An older concurrent sync's pointer landed after this one's read-back: the pointer went
        // back, so no sync will ever name this namespace again. Remove it once the pointer that
        // replaced it has been current for its grace period (readers may still hold this one).
        if (now !== undefined && now.syncId < pointer.syncId) {
          const wait = Date.parse(now.syncedAt) + now.graceMs - Date.now();
          if (wait > 0) return context.later(wait, afterGrace);
          await storeCall(store, "delete a namespace", () => store.deleteNamespace(pointer.namespace));
        }
      };
      context.later(context.graceMs, afterGrace);
    }
    return undefined;
  }
  return current;
}
