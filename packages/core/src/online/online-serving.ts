import type { JS } from "@duckdb/node-api";
import type { Engine } from "../engine";
import { FeatureDefinitionError, FeatureNotSyncedError, MlforgeError, OnlineSyncError } from "../errors";
import { errorMessage } from "../errors/error-message";
import { runFeatureJobs } from "../feature-jobs";
import type { Feature } from "../feature";
import type { OfflineStore } from "../offline-store";
import type { OnlineReadRequest, OnlineStore } from "../online-store";
import { KeyEncoder } from "./key-codec";
import { parsePointer, POINTER_NAMESPACE, type OnlinePointer } from "./online-pointer";
import type { OnlineFeatureStatus } from "./online-status";
import type { FeatureSyncResult, OnlineSyncProgressEvent, OnlineSyncResult } from "./online-sync-result";
import { storeCall, syncFeature } from "./sync-feature";
import { decodeValues } from "./value-codec";

/** Pointers younger than this are used without looking them up. */
const FRESH_MS = 1_000;

/**
 * Sets an own enumerable, writable property of a fresh row object. Plain assignment does that for
 * any name `Object.prototype` lacks, and is about ten times faster than `Object.defineProperty`
 * (which matters at 50 columns × 100 entities per read); `__proto__`, or a name such as
 * `toString` that a frozen prototype would refuse to shadow, takes `defineProperty`.
 */
function setColumn(output: Record<string, unknown>, name: string, value: unknown): void {
  if (name in Object.prototype) Object.defineProperty(output, name, { value, enumerable: true, writable: true, configurable: true });
  else output[name] = value;
}

/** Options of one sync run, checked by `Definitions`. */
export interface SyncRun {
  features: readonly Feature[];
  offlineStore: OfflineStore;
  openEngine: () => Promise<Engine>;
  force: boolean;
  graceMs: number;
  batchRows: number;
  onProgress: ((event: OnlineSyncProgressEvent) => void) | undefined;
  signal: AbortSignal | undefined;
}

/** One requested feature of a read: its selected value columns (all of them when `columns` is undefined). */
export interface ReadSelection {
  feature: Feature;
  columns: string[] | undefined;
}

interface CachedPointer {
  pointer: OnlinePointer;
  fetchedAt: number;
}

/**
 * How one build of a feature is read for one column selection: the same for every read until the
 * feature is synced again or other columns are selected, so it is kept rather than worked out per call.
 */
interface FeatureLayout {
  namespace: string;
  /** The selected columns, joined ("*" for all): with `namespace`, what the layout is valid for. */
  columnsKey: string;
  encoder: KeyEncoder;
  /** Output column name, its position in the encoded values, and whether it needs `defineProperty` (see `setColumn`). */
  outputs: Array<[name: string, position: number, define: boolean]>;
  timestampIndex: number;
  /** The message for a selected column the build does not have, thrown after the keys are checked (bad keys are reported first). */
  unknownColumn: string | undefined;
}

/** How one feature is read: its namespace, entity keys and the value positions of its output columns. */
interface FeaturePlan {
  selection: ReadSelection;
  pointer: OnlinePointer;
  keys: string[];
  /** Output column name, its position in the encoded values, and whether it needs `defineProperty`. */
  outputs: Array<[name: string, position: number, define: boolean]>;
  timestampIndex: number;
}

/**
 * Core's side of online serving for one `Definitions`: syncs built features into an online store
 * and reads them back, keeping the pointers (current build per feature) cached and fresh.
 */
export class OnlineServing {
  private readonly pointers = new Map<string, CachedPointer>();
  /** Per feature, the layout of the last build and column selection read. */
  private readonly layouts = new Map<string, FeatureLayout>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(readonly store: OnlineStore) {}

  /** Syncs features one by one; failures do not stop the others, and then it rejects with `OnlineSyncError` carrying the result. */
  async sync(run: SyncRun): Promise<OnlineSyncResult> {
    const started = performance.now();
    run.signal?.throwIfAborted();
    await this.store.check();
    const engine = await run.openEngine();
    const interrupt = () => engine.interrupt();
    run.signal?.addEventListener("abort", interrupt);
    let entries: FeatureSyncResult[];
    try {
      entries = await runFeatureJobs<FeatureSyncResult>({
        features: run.features,
        job: async (feature) => {
          const entry = await syncFeature(feature, {
            store: this.store,
            offlineStore: run.offlineStore,
            engine,
            force: run.force,
            graceMs: run.graceMs,
            batchRows: run.batchRows,
            signal: run.signal,
            later: (delayMs, work) => this.later(delayMs, work),
          });
          // This process sees its own sync at once.
          this.pointers.delete(feature.name);
          return entry;
        },
        failed: (feature, error, durationMs) => ({
          name: feature.name,
          status: "failed",
          buildId: "",
          rows: 0,
          durationMs,
          error: MlforgeError.isInstance(error) ? error : new MlforgeError(`Feature '${feature.name}' failed to sync: ${errorMessage(error)}`, { cause: error }),
        }),
        onProgress: run.onProgress,
        signal: run.signal,
      });
    } finally {
      run.signal?.removeEventListener("abort", interrupt);
      engine.close();
    }
    const result: OnlineSyncResult = { synced: [], skipped: [], failed: [], durationMs: 0 };
    for (const entry of entries) result[entry.status].push(entry);
    result.durationMs = performance.now() - started;
    if (result.failed.length > 0) throw new OnlineSyncError(result);
    return result;
  }

  /**
   * The rows of `entities` for the selected features, in one `get` in steady state. The caller has
   * checked that entities hold exactly the definitions' key columns of the selected features.
   */
  async read(selections: readonly ReadSelection[], entities: ReadonlyArray<Readonly<Record<string, unknown>>>): Promise<Record<string, unknown>[]> {
    const now = Date.now();
    const names = selections.map((selection) => selection.feature.name);
    const cached = names.map((name) => this.pointers.get(name));
    const mustFetch = cached.some((entry) => entry === undefined || now - entry.fetchedAt > Math.max(FRESH_MS, entry.pointer.graceMs / 2));
    if (mustFetch) await this.fetchPointers(names);
    const piggyback = !mustFetch && cached.some((entry) => now - entry!.fetchedAt > FRESH_MS);

    let plans = this.plan(selections, entities);
    const requests: OnlineReadRequest[] = plans.map((plan) => ({ namespace: plan.pointer.namespace, keys: plan.keys }));
    if (piggyback) requests.push({ namespace: POINTER_NAMESPACE, keys: names });
    let values = await storeCall(this.store, "read features", () => this.store.get(requests));
    if (piggyback) {
      const fetchedAt = Date.now();
      const fresh = values[plans.length]!.map(parsePointer);
      const missing = names.filter((_, index) => fresh[index] === undefined);
      if (missing.length > 0) {
        for (const name of missing) this.pointers.delete(name);
        throw new FeatureNotSyncedError(missing, this.store.description);
      }
      for (const [index, name] of names.entries()) this.pointers.set(name, { pointer: fresh[index]!, fetchedAt });
      // A sync switched some feature while these values were read: read those again from the new build.
      const changed = plans.map((plan, index) => plan.pointer.namespace !== fresh[index]!.namespace);
      if (changed.some(Boolean)) {
        plans = this.plan(selections, entities);
        const again = plans.filter((_, index) => changed[index]);
        const reread = await storeCall(this.store, "read features", () => this.store.get(again.map((plan) => ({ namespace: plan.pointer.namespace, keys: plan.keys }))));
        let next = 0;
        values = plans.map((_, index) => (changed[index] ? reread[next++]! : values[index]!));
      }
    }
    return this.assemble(plans, entities, values, Date.now());
  }

  /**
   * The synced build each named feature is served from (undefined for one never synced). Pointers
   * read in the last second (by `read`) answer without a store call; others are read in one call.
   */
  async status(names: readonly string[]): Promise<Array<OnlineFeatureStatus | undefined>> {
    const now = Date.now();
    const stale = names.filter((name) => {
      const entry = this.pointers.get(name);
      return entry === undefined || now - entry.fetchedAt > FRESH_MS;
    });
    const fetched = new Map<string, OnlinePointer | undefined>();
    if (stale.length > 0) {
      const [texts] = await storeCall(this.store, "read feature pointers", () => this.store.get([{ namespace: POINTER_NAMESPACE, keys: stale }]));
      const fetchedAt = Date.now();
      for (const [index, name] of stale.entries()) {
        const pointer = parsePointer(texts?.[index]);
        fetched.set(name, pointer);
        if (pointer === undefined) this.pointers.delete(name);
        else this.pointers.set(name, { pointer, fetchedAt });
      }
    }
    return names.map((name) => {
      const pointer = fetched.has(name) ? fetched.get(name) : this.pointers.get(name)?.pointer;
      return pointer === undefined ? undefined : { buildId: pointer.buildId, builtAt: pointer.builtAt, syncedAt: pointer.syncedAt, rows: pointer.rows };
    });
  }

  /** Clears pending background removals and closes the store. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.store.close();
  }

  private later(delayMs: number, work: () => Promise<void>): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // Best effort: what is not removed now is removed by the next sync.
      work().catch(() => undefined);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private async fetchPointers(names: readonly string[]): Promise<void> {
    const [texts] = await storeCall(this.store, "read feature pointers", () => this.store.get([{ namespace: POINTER_NAMESPACE, keys: names }]));
    const fetchedAt = Date.now();
    const missing: string[] = [];
    for (const [index, name] of names.entries()) {
      const pointer = parsePointer(texts?.[index]);
      if (pointer === undefined) {
        this.pointers.delete(name);
        missing.push(name);
      } else this.pointers.set(name, { pointer, fetchedAt });
    }
    if (missing.length > 0) throw new FeatureNotSyncedError(missing, this.store.description);
  }

  /** Encodes keys and resolves output columns from the cached pointers; throws `FeatureDefinitionError` for bad keys, unknown or clashing columns. */
  private plan(selections: readonly ReadSelection[], entities: ReadonlyArray<Readonly<Record<string, unknown>>>): FeaturePlan[] {
    const keyColumns = new Set(selections.flatMap((selection) => this.pointers.get(selection.feature.name)!.pointer.keys.map((key) => key.name)));
    const owners = new Map<string, string>();
    return selections.map((selection) => {
      const { feature } = selection;
      const pointer = this.pointers.get(feature.name)!.pointer;
      const layout = this.layout(selection, pointer);
      const keys = entities.map((entity, index) => layout.encoder.encodeEntity(entity, index));
      if (layout.unknownColumn !== undefined) throw new FeatureDefinitionError(layout.unknownColumn);
      for (const [name] of layout.outputs) {
        const owner = owners.get(name);
        if (keyColumns.has(name) || (owner !== undefined && owner !== feature.name)) {
          throw new FeatureDefinitionError(
            `Column '${name}' of feature '${feature.name}' clashes with ${owner === undefined ? "a key column" : `column '${name}' of feature '${owner}'`} in the same rows. ` +
              `Select columns so each name appears once, for example features: ["${owner ?? feature.name}", "${feature.name}.<column>"].`,
          );
        }
        owners.set(name, feature.name);
      }
      return { selection, pointer, keys, outputs: layout.outputs, timestampIndex: layout.timestampIndex };
    });
  }

  /** The layout of `selection` over the build `pointer` names, kept until either changes; throws `FeatureDefinitionError` for a key column online serving cannot key by. */
  private layout(selection: ReadSelection, pointer: OnlinePointer): FeatureLayout {
    const { feature } = selection;
    const columnsKey = selection.columns === undefined ? "*" : selection.columns.join("\u0000");
    const kept = this.layouts.get(feature.name);
    if (kept !== undefined && kept.namespace === pointer.namespace && kept.columnsKey === columnsKey) return kept;
    const encoder = new KeyEncoder(feature.name, pointer.keys);
    const valueNames = pointer.columns.map((item) => item.name);
    const wanted = (selection.columns ?? valueNames).filter((name) => !pointer.keys.some((key) => key.name === name));
    const unknown = wanted.find((name) => !valueNames.includes(name));
    const unknownColumn =
      unknown === undefined
        ? undefined
        : `Feature '${feature.name}' has no column '${unknown}'. Its columns: ${[...pointer.keys.map((key) => key.name), ...valueNames].join(", ")}.`;
    const outputs = wanted.map((name): [string, number, boolean] => [name, valueNames.indexOf(name), name in Object.prototype]);
    const timestampIndex = pointer.timestamp === undefined ? -1 : valueNames.indexOf(pointer.timestamp);
    const layout = { namespace: pointer.namespace, columnsKey, encoder, outputs, timestampIndex, unknownColumn };
    this.layouts.set(feature.name, layout);
    return layout;
  }

  private assemble(
    plans: readonly FeaturePlan[],
    entities: ReadonlyArray<Readonly<Record<string, unknown>>>,
    values: ReadonlyArray<ReadonlyArray<string | undefined>>,
    now: number,
  ): Record<string, unknown>[] {
    return entities.map((entity, row) => {
      const output: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(entity)) setColumn(output, name, value);
      for (const [index, plan] of plans.entries()) {
        const text = values[index]?.[row];
        let decoded: JS[] | undefined = text === undefined ? undefined : decodeValues(text);
        const ttl = plan.selection.feature.onlineTtl;
        if (decoded !== undefined && ttl !== undefined && plan.timestampIndex >= 0) {
          const time = decoded[plan.timestampIndex];
          if (time instanceof Date && now - time.getTime() > ttl) decoded = undefined;
        }
        for (const [name, position, define] of plan.outputs) {
          const value = decoded === undefined ? null : (decoded[position] ?? null);
          if (define) Object.defineProperty(output, name, { value, enumerable: true, writable: true, configurable: true });
          else output[name] = value;
        }
      }
      return output;
    });
  }
}
