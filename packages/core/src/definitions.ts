import { rm } from "node:fs/promises";
import path from "node:path";
import { buildFeature } from "./build-feature";
import type { BuildProgressEvent, BuildResult, FeatureBuildResult, FeatureValidationResult, ValidationResult } from "./build-result";
import { stageFeature } from "./build/stage-feature";
import { Engine, type EngineOptions } from "./engine";
import { runFeatureJobs } from "./feature-jobs";
import { BuildError, FeatureBuildError, FeatureCheckError, FeatureDefinitionError, FeatureNotFoundError, InvalidOptionError, MlforgeError, TagNotFoundError } from "./errors";
import { errorMessage } from "./errors/error-message";
import { isFeature, type Feature } from "./feature";
import type { FeatureMetadata } from "./feature-metadata";
import { featureStats, type FeatureStats, type FeatureStatsOptions } from "./feature-stats";
import { diffFeature, type FeatureDiff, type FeatureDiffOptions } from "./feature-diff";
import type { FeatureFrame } from "./feature-frame";
import type { OfflineStore } from "./offline-store";
import { checkOptions } from "./options";
import { OnlineServing } from "./online/online-serving";
import type { OnlineFeatureStatus } from "./online/online-status";
import type { OnlineSyncProgressEvent, OnlineSyncResult } from "./online/online-sync-result";
import { parseReadOptions, type OnlineFeaturesOptions } from "./online/read-options";
import type { OnlineStore } from "./online-store";
import { getTrainingData, type ReproduceTrainingDataOptions, type TrainingDataOptions } from "./point-in-time";
import { readFeature } from "./read-feature";
import { rollbackFeature, type RollbackOptions, type RollbackResult } from "./rollback";
import type { Session } from "./session";
import { describeStoredFeature } from "./stored-feature";
import { listVersions, type FeatureVersion } from "./versions";
import { SourceProviders, type SourceProvider } from "./source-provider";

const marker = Symbol.for("mlforge.definitions");

/** Options of `new Definitions()`. */
export interface DefinitionsOptions {
  /** Project name, recorded in every metadata document. */
  name: string;
  /** Feature objects and/or module namespaces (every exported feature is taken, other exports ignored). */
  features: ReadonlyArray<Feature | Readonly<Record<string, unknown>>>;
  /** Where built features are stored, such as `new LocalStore("./feature_store")`. */
  offlineStore: OfflineStore;
  /** DuckDB settings: memory limit, threads, spill directory. @default DuckDB's own */
  engine?: EngineOptions;
  /** The directory that relative source and entity paths resolve from, so a definitions file works from any working directory. @default process.cwd() at construction */
  baseDirectory?: string;
  /** Providers of URI sources, such as `s3Sources({ region: "us-west-2" })` from @mlforge/store-s3. @default none given; `s3://` sources then use @mlforge/store-s3's `s3Sources()` with the AWS SDK's defaults, when it is installed */
  sources?: readonly SourceProvider[];
  /** Where features are served from, such as `new LocalOnlineStore("./online_store")` from @mlforge/online-local. @default none: online methods throw */
  onlineStore?: OnlineStore;
  /**
   * How many builds of each feature the offline store keeps under `_versions/`, the current one
   * included: `1` keeps the current one alone, `0` turns versions off (no `_versions/`, no
   * rollback), `Infinity` keeps every build. Older versions are removed after each publish. @default 10
   */
  keepVersions?: number;
}

/** Options of `Definitions.build()`. */
export interface BuildOptions {
  /** Names of the features to build. @default every feature */
  features?: readonly string[];
  /** Build only features carrying at least one of these tags. @default no tag filter */
  tags?: readonly string[];
  /** Rebuild even features whose definition and source are unchanged. @default false */
  force?: boolean;
  /** Called as each feature starts and ends. */
  onProgress?: (event: BuildProgressEvent) => void;
  /** Stops the build: the running query is interrupted and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Then sync the selected features to the online store (unchanged ones are skipped cheaply). @default false */
  online?: boolean;
}

/** Options of `Definitions.read()`. */
export interface ReadOptions {
  /** A build id from `versions(name)`: read that kept version instead of the current data. @default the current data */
  version?: string;
}

/** Options of `Definitions.validate()`. */
export interface ValidateOptions {
  /** Names of the features to validate. @default every feature */
  features?: readonly string[];
  /** Validate only features carrying at least one of these tags. @default no tag filter */
  tags?: readonly string[];
  /** Called as each feature ends. */
  onProgress?: (result: FeatureValidationResult) => void;
  /** Stops the validation; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of `Definitions.syncOnline()`. */
export interface SyncOnlineOptions {
  /** Names of the features to sync. @default every feature */
  features?: readonly string[];
  /** Sync only features carrying at least one of these tags. @default no tag filter */
  tags?: readonly string[];
  /** Sync even features whose online copy is already of the offline store's current build. @default false */
  force?: boolean;
  /** How long the replaced build stays readable for in-flight readers before it is removed, in milliseconds. @default 60000 */
  graceMs?: number;
  /** Rows streamed from DuckDB and written per store call. @default 2048 */
  batchRows?: number;
  /** Called as each feature starts and ends. */
  onProgress?: (event: OnlineSyncProgressEvent) => void;
  /** Stops the sync between batches; the promise rejects with the signal's reason and readers keep the previous build. */
  signal?: AbortSignal;
}

/** Options of `Definitions.materialize()`, the storage-backends.md spelling of a selective build. */
export interface MaterializeOptions extends Omit<BuildOptions, "features"> {
  featureNames?: readonly string[];
}

/** The options of `build()` and `materialize()`; an unknown one (a misspelt selection) would otherwise build everything. */
const BUILD_OPTIONS = { features: "names", tags: "names", force: "boolean", onProgress: "function", signal: "any", online: "boolean" } as const;
const MATERIALIZE_OPTIONS = { featureNames: "names", tags: "names", force: "boolean", onProgress: "function", signal: "any" } as const;
const DEFINITIONS_OPTIONS = { name: "any", features: "any", offlineStore: "any", engine: "any", sources: "any", baseDirectory: "string", onlineStore: "any", keepVersions: "any" } as const;
const ROLLBACK_OPTIONS = { to: "string", dryRun: "boolean" } as const;

/** How many versions of each feature a build keeps when `keepVersions` is not given. */
export const DEFAULT_KEEP_VERSIONS = 10;
const READ_OPTIONS = { version: "string" } as const;
const DIFF_OPTIONS = { from: "string", to: "string" } as const;
const VALIDATE_OPTIONS = { features: "names", tags: "names", onProgress: "function", signal: "any" } as const;
const SYNC_ONLINE_OPTIONS = { features: "names", tags: "names", force: "boolean", graceMs: "number", batchRows: "number", onProgress: "function", signal: "any" } as const;
const ONLINE_FEATURES_OPTIONS = { features: "any", entities: "any" } as const;

/** Checks syncOnline's numeric options, which must be whole numbers in range. */
function checkSyncNumbers(options: SyncOnlineOptions): void {
  if (options.graceMs !== undefined && !(Number.isSafeInteger(options.graceMs) && options.graceMs >= 0)) {
    throw new InvalidOptionError("syncOnline option 'graceMs' must be a whole number of milliseconds of at least 0, for example graceMs: 60000.", "syncOnline", Object.keys(SYNC_ONLINE_OPTIONS));
  }
  if (options.batchRows !== undefined && !(Number.isSafeInteger(options.batchRows) && options.batchRows >= 1)) {
    throw new InvalidOptionError("syncOnline option 'batchRows' must be a whole number of at least 1, for example batchRows: 2048.", "syncOnline", Object.keys(SYNC_ONLINE_OPTIONS));
  }
}

/** A defined feature and, when it was built, its metadata in the store. */
export interface FeatureListing {
  feature: Feature;
  metadata: FeatureMetadata | undefined;
}

function collectFeatures(entries: DefinitionsOptions["features"]): Feature[] {
  if (!Array.isArray(entries)) {
    throw new FeatureDefinitionError("Definitions option 'features' must be an array of features and/or modules, for example features: [features].");
  }
  const found: Feature[] = [];
  for (const entry of entries) {
    if (isFeature(entry)) found.push(entry);
    else if (typeof entry === "object" && entry !== null) found.push(...Object.values(entry).filter(isFeature));
    else throw new FeatureDefinitionError(`Definitions option 'features' holds ${String(entry)}, which is neither a feature nor a module of features.`);
  }
  const seen = new Map<string, Feature>();
  for (const item of found) {
    const other = seen.get(item.name);
    if (other !== undefined && other !== item) {
      throw new FeatureDefinitionError(`Feature name '${item.name}' is defined twice. Give each feature a unique name.`);
    }
    seen.set(item.name, item);
  }
  // Stores name files after features: on macOS and Windows file systems (case-insensitive) these would be one file.
  const byCase = new Map<string, string>();
  for (const name of seen.keys()) {
    const other = byCase.get(name.toLowerCase());
    if (other !== undefined) {
      throw new FeatureDefinitionError(`Features '${other}' and '${name}' differ only in case, so their files would collide on macOS and Windows file systems. Rename one.`);
    }
    byCase.set(name.toLowerCase(), name);
  }
  return [...seen.values()];
}

/** A project's features and the offline store they are built into. */
export class Definitions implements AsyncDisposable {
  /** Project name. */
  readonly name: string;
  /** Every feature, in definition order. */
  readonly features: readonly Feature[];
  /** Where features are stored. */
  readonly offlineStore: OfflineStore;
  private readonly session: Session;
  private closing: Promise<void> | undefined;
  private readonly online: OnlineServing | undefined;

  constructor(options: DefinitionsOptions) {
    if (typeof options?.name !== "string" || options.name.trim() === "") {
      throw new FeatureDefinitionError("Definitions needs a name, for example new Definitions({ name: \"user-features\", … }).");
    }
    if (typeof options.offlineStore?.putFile !== "function") {
      throw new FeatureDefinitionError("Definitions needs an offlineStore, for example offlineStore: new LocalStore(\"./feature_store\").");
    }
    checkOptions("Definitions", options, DEFINITIONS_OPTIONS);
    if (options.baseDirectory !== undefined && (typeof options.baseDirectory !== "string" || options.baseDirectory === "")) {
      throw new InvalidOptionError("Definitions option 'baseDirectory' must be a directory path, for example baseDirectory: import.meta.dirname.", "Definitions", Object.keys(DEFINITIONS_OPTIONS));
    }
    if (options.onlineStore !== undefined && typeof options.onlineStore?.get !== "function") {
      throw new FeatureDefinitionError("Definitions option 'onlineStore' is not an online store. Pass one such as onlineStore: new LocalOnlineStore(\"./online_store\") from @mlforge/online-local.");
    }
    const keepVersions = options.keepVersions ?? DEFAULT_KEEP_VERSIONS;
    if (typeof keepVersions !== "number" || !(keepVersions === Infinity || (Number.isSafeInteger(keepVersions) && keepVersions >= 0))) {
      throw new InvalidOptionError(
        `Definitions option 'keepVersions' is ${typeof keepVersions === "string" ? JSON.stringify(keepVersions) : String(keepVersions)}; it must be a whole number of 0 or more, or Infinity: ` +
          "keepVersions: 10 (the default) keeps the current build and the nine before it, 1 the current one alone, 0 turns versions off.",
        "Definitions",
        ["keepVersions"],
      );
    }
    this.name = options.name;
    this.features = Object.freeze(collectFeatures(options.features));
    this.offlineStore = options.offlineStore;
    this.session = Object.freeze({
      definitions: options.name,
      features: this.features,
      offlineStore: options.offlineStore,
      engineOptions: { ...options.engine },
      sources: new SourceProviders(options.sources),
      baseDirectory: path.resolve(options.baseDirectory ?? "."),
      keepVersions,
    });
    this.online = options.onlineStore === undefined ? undefined : new OnlineServing(options.onlineStore);
    Object.defineProperty(this, marker, { value: true });
  }

  /** True for a `Definitions` from any copy of `@mlforge/core` (the CLI loads user files). */
  static isInstance(value: unknown): value is Definitions {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /** The feature called `name`; throws `FeatureNotFoundError` listing the available names. */
  feature(name: string): Feature {
    const found = this.features.find((item) => item.name === name);
    if (found === undefined) throw new FeatureNotFoundError([name], this.features.map((item) => item.name));
    return found;
  }

  /** The features a selection names, in definition order; unknown names throw before any work. */
  select(selection: { features?: readonly string[]; tags?: readonly string[] } = {}): Feature[] {
    const available = this.features.map((item) => item.name);
    const wanted = selection.features;
    if (wanted !== undefined) {
      const missing = wanted.filter((name) => !available.includes(name));
      if (missing.length > 0) throw new FeatureNotFoundError(missing, available);
    }
    if (selection.tags !== undefined) {
      const known = [...new Set(this.features.flatMap((item) => item.tags))];
      const unknown = selection.tags.filter((tag) => !known.includes(tag));
      if (unknown.length > 0) throw new TagNotFoundError(unknown, known);
    }
    return this.features.filter(
      (item) =>
        (wanted === undefined || wanted.includes(item.name)) &&
        (selection.tags === undefined || selection.tags.length === 0 || item.tags.some((tag) => selection.tags!.includes(tag))),
    );
  }

  /**
   * Builds features into the offline store. Features are independent: one failure does not stop
   * the others, and `build` then rejects with `BuildError` carrying the full result.
   */
  async build(options: BuildOptions = {}): Promise<BuildResult> {
    checkOptions("build", options, BUILD_OPTIONS, { example: 'build({ features: ["user_total_spend"] })' });
    const started = performance.now();
    const selected = this.select(options);
    const { signal, onProgress } = options;
    // Before any work: building for an hour and then finding no online store to sync to helps no one.
    if (options.online === true) this.requireOnline("build({ online: true })");
    signal?.throwIfAborted();
    await this.offlineStore.check();

    // At most one feature is being published (uploaded) while the next one computes: the upload
    // overlaps DuckDB's work, and at most two staged files exist at once.
    const engine = await Engine.open(this.session.engineOptions);
    const interrupt = () => engine.interrupt();
    signal?.addEventListener("abort", interrupt);
    let entries: FeatureBuildResult[];
    try {
      entries = await runFeatureJobs<FeatureBuildResult>({
        features: selected,
        job: (item) => buildFeature(item, { session: this.session, engine, force: options.force ?? false, signal }),
        failed: (item, error, durationMs) => ({
          name: item.name,
          status: "failed",
          rows: 0,
          bytes: 0,
          uri: "",
          durationMs,
          error: MlforgeError.isInstance(error) ? error : new FeatureBuildError(item.name, errorMessage(error), { cause: error }),
          ...(FeatureCheckError.isInstance(error) ? { checks: [...error.checks] } : {}),
        }),
        onProgress,
        signal,
      });
    } finally {
      signal?.removeEventListener("abort", interrupt);
      engine.close();
    }
    const result: BuildResult = { built: [], skipped: [], failed: [], durationMs: 0 };
    for (const entry of entries) result[entry.status].push(entry);
    result.durationMs = performance.now() - started;
    if (result.failed.length > 0) throw new BuildError(result);
    if (options.online === true) {
      result.online = await this.syncOnline({ features: selected.map((item) => item.name), ...(signal === undefined ? {} : { signal }) });
    }
    return result;
  }

  /**
   * Computes the selected features and runs their checks like a build, but publishes nothing (the
   * store is only read for its staging space). Features are independent: the result lists each
   * one's check results, and `passed` is false when any feature failed (an error-severity check,
   * the transform or the keys).
   */
  async validate(options: ValidateOptions = {}): Promise<ValidationResult> {
    checkOptions("validate", options, VALIDATE_OPTIONS, { example: 'validate({ features: ["user_total_spend"] })' });
    const started = performance.now();
    const selected = this.select(options);
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    await this.offlineStore.check();
    const engine = await Engine.open(this.session.engineOptions);
    const interrupt = () => engine.interrupt();
    signal?.addEventListener("abort", interrupt);
    let features: FeatureValidationResult[];
    try {
      features = await runFeatureJobs<FeatureValidationResult>({
        features: selected,
        job: async (item) => {
          const featureStarted = performance.now();
          const staged = await stageFeature(item, this.session, engine, { signal });
          await rm(staged.path, { force: true });
          return { name: item.name, status: "passed", rows: staged.file.rows, checks: staged.checks, durationMs: performance.now() - featureStarted };
        },
        failed: (item, error, durationMs) => ({
          name: item.name,
          status: "failed",
          rows: FeatureCheckError.isInstance(error) ? (error.checks[0]?.rows ?? 0) : 0,
          checks: FeatureCheckError.isInstance(error) ? [...error.checks] : [],
          durationMs,
          error: MlforgeError.isInstance(error) ? error : new FeatureBuildError(item.name, errorMessage(error), { cause: error }),
        }),
        // validate() reports each feature once, as it ends, with its result.
        onProgress: (event) => {
          if (event.type === "end") onProgress?.(event.result);
        },
        signal,
      });
    } finally {
      signal?.removeEventListener("abort", interrupt);
      engine.close();
    }
    return { features, passed: features.every((item) => item.status === "passed"), durationMs: performance.now() - started };
  }

  /** The online store given to the constructor, if any. */
  get onlineStore(): OnlineStore | undefined {
    return this.online?.store;
  }

  /**
   * Syncs the offline store's current builds of the selected features into the online store, one
   * namespace per sync, switching readers over atomically per feature. Features whose online copy
   * is of the current build are skipped. Rejects with `OnlineSyncError` carrying the result when
   * any feature failed; readers then keep that feature's previous build.
   */
  async syncOnline(options: SyncOnlineOptions = {}): Promise<OnlineSyncResult> {
    checkOptions("syncOnline", options, SYNC_ONLINE_OPTIONS);
    checkSyncNumbers(options);
    const online = this.requireOnline("syncOnline");
    const features = this.select(options);
    await this.offlineStore.check();
    return online.sync({
      features,
      offlineStore: this.offlineStore,
      openEngine: () => Engine.open(this.session.engineOptions),
      force: options.force ?? false,
      graceMs: options.graceMs ?? 60_000,
      batchRows: options.batchRows ?? 2048,
      onProgress: options.onProgress,
      signal: options.signal,
    });
  }

  /**
   * Rows of feature values for the given entities from the online store: keys as given, then the
   * requested columns; null where the store holds no row (or the row is older than `onlineTtl`).
   * Everything is checked before any store call; in steady state it is one store round trip.
   */
  async getOnlineFeatures(options: OnlineFeaturesOptions): Promise<Record<string, unknown>[]> {
    checkOptions("getOnlineFeatures", options, ONLINE_FEATURES_OPTIONS);
    const online = this.requireOnline("getOnlineFeatures");
    const selections = parseReadOptions(options, (name) => this.feature(name));
    return online.read(selections, options.entities);
  }

  /**
   * Which synced build online reads serve for each named feature (undefined for one never synced):
   * `{ buildId, builtAt, syncedAt, rows }`. Right after `getOnlineFeatures` it answers from the
   * pointers that read used, without a store call.
   */
  async onlineStatus(names: readonly string[]): Promise<Record<string, OnlineFeatureStatus | undefined>> {
    const online = this.requireOnline("onlineStatus");
    for (const name of names) this.feature(name);
    const statuses = await online.status(names);
    return Object.fromEntries(names.map((name, index) => [name, statuses[index]]));
  }

  private requireOnline(method: string): OnlineServing {
    if (this.online === undefined) {
      throw new FeatureDefinitionError(
        `${method} needs an online store. Pass one to the Definitions, for example onlineStore: new LocalOnlineStore("./online_store") from @mlforge/online-local.`,
      );
    }
    return this.online;
  }

  /** Same as `build({ features: featureNames, … })`. */
  async materialize(options: MaterializeOptions = {}): Promise<BuildResult> {
    checkOptions("materialize", options, MATERIALIZE_OPTIONS, { example: 'materialize({ featureNames: ["user_total_spend"] })' });
    const { featureNames, ...rest } = options;
    return this.build({ ...rest, features: featureNames });
  }

  /**
   * The metadata of feature `name` as stored, checked against its data file (rebuilt from the
   * file's footer when a crash left the document stale), or undefined when it was never built.
   */
  async metadata(name: string): Promise<FeatureMetadata | undefined> {
    this.feature(name);
    await this.offlineStore.check();
    return this.withEngine((engine) => describeStoredFeature(engine, this.offlineStore, name));
  }

  /** Every defined feature with its metadata (undefined when never built); see `metadata()`. */
  async list(): Promise<FeatureListing[]> {
    await this.offlineStore.check();
    return this.withEngine(async (engine) => {
      const listings: FeatureListing[] = [];
      for (const item of this.features) listings.push({ feature: item, metadata: await describeStoredFeature(engine, this.offlineStore, item.name) });
      return listings;
    });
  }

  /**
   * The whole stored feature `name` (or, with `version`, that kept build of it), with `metadata`
   * checked against the data file's footer; throws `FeatureNotBuiltError` when it was never built
   * and `FeatureVersionNotFoundError`, listing the kept versions, when the version is not kept.
   */
  async read(name: string, options: ReadOptions = {}): Promise<FeatureFrame> {
    checkOptions("read", options, READ_OPTIONS, { example: 'read("user_total_spend", { version: "0193…" })' });
    this.feature(name);
    await this.offlineStore.check();
    return readFeature(this.session, name, options.version);
  }

  /**
   * The builds of feature `name` that the offline store keeps, newest first, the current one marked
   * (see `keepVersions`). Empty when it was never built.
   */
  async versions(name: string): Promise<FeatureVersion[]> {
    this.feature(name);
    await this.offlineStore.check();
    return this.withEngine((engine) => listVersions(engine, this.offlineStore, name));
  }

  /**
   * Makes a kept version of feature `name` current again: `{ to: buildId }` (from `versions(name)`)
   * or `{ to: "previous" }` (the newest kept version older than the current one). Atomic as a build
   * publishes (the data, then the metadata document, which records the rollback); the next
   * `syncOnline` serves it. With `dryRun`, says what would happen and changes nothing. Throws
   * `FeatureRollbackError` when that version is already the current one (or none is older), and
   * `FeatureVersionNotFoundError`, listing the kept versions, for a version the store does not keep.
   */
  async rollback(name: string, options: RollbackOptions): Promise<RollbackResult> {
    checkOptions("rollback", options, ROLLBACK_OPTIONS, { example: 'rollback("user_total_spend", { to: "previous" })' });
    if (typeof options.to !== "string" || options.to === "") {
      throw new InvalidOptionError(
        'rollback needs option \'to\': a build id from versions(name), or "previous", for example rollback("user_total_spend", { to: "previous" }).',
        "rollback",
        ["to"],
      );
    }
    this.feature(name);
    await this.offlineStore.check();
    return this.withEngine((engine) => rollbackFeature(name, options, { engine, store: this.offlineStore, keepVersions: this.session.keepVersions }));
  }

  /**
   * Column statistics of the stored feature `name`, computed by DuckDB: null and distinct counts,
   * min and max, a histogram (numeric columns) or top values (others). Throws `FeatureNotBuiltError`
   * when it was never built.
   */
  async stats(name: string, options: FeatureStatsOptions = {}): Promise<FeatureStats> {
    this.feature(name);
    await this.offlineStore.check();
    return this.withEngine((engine) => featureStats(engine, this.offlineStore, name, options));
  }

  /**
   * How two builds of feature `name` differ (default: the previous one and the current one), computed
   * by DuckDB over their two data files: columns added, removed and retyped; rows and keys added and
   * removed (rows matched by the keys, and the timestamp for a feature with one) and rows changed; and
   * per numeric column the mean and the null count in each build. `from` and `to` are build ids from
   * `versions(name)`, `"previous"` or `"current"`. Throws `FeatureNotBuiltError` when it was never
   * built, `PreviousVersionNotFoundError` when no version before the current one is kept, and
   * `FeatureVersionNotFoundError`, listing the kept versions, for an unknown build id.
   */
  async diff(name: string, options: FeatureDiffOptions = {}): Promise<FeatureDiff> {
    checkOptions("diff", options, DIFF_OPTIONS, { example: 'diff("user_total_spend", { from: "previous", to: "current" })' });
    const { keys, timestamp } = this.feature(name);
    await this.offlineStore.check();
    return this.withEngine((engine) => diffFeature(engine, this.offlineStore, name, options, { identity: { keys, timestamp }, keepVersions: this.session.keepVersions }));
  }

  /**
   * Point-in-time correct training data: one row per entity row, each feature joined as of the row's
   * time; `frame.manifest` records what it was made from. With `{ reproduce: file, entities }`, the
   * same training set again from the manifest in the footer of a file `frame.writeParquet()` wrote.
   */
  getTrainingData(options: TrainingDataOptions | ReproduceTrainingDataOptions): Promise<FeatureFrame> {
    return getTrainingData(this.session, options);
  }

  /**
   * Releases what the stores hold (clients, connections) and stops background removals of replaced
   * online builds (the next sync removes them). The definitions may not be used afterwards. Safe to call twice.
   */
  async close(): Promise<void> {
    this.closing ??= Promise.all([this.offlineStore.close(), this.online?.close()]).then(() => undefined);
    return this.closing;
  }

  /** Same as `close()`, for `await using defs = new Definitions(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async withEngine<T>(work: (engine: Engine) => Promise<T>): Promise<T> {
    const engine = await Engine.open(this.session.engineOptions);
    try {
      return await work(engine);
    } finally {
      engine.close();
    }
  }
}
