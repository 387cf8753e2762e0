import path from "node:path";
import { buildFeature } from "./build-feature";
import type { BuildProgressEvent, BuildResult, FeatureBuildResult } from "./build-result";
import { Engine, type EngineOptions } from "./engine";
import { BuildError, FeatureBuildError, FeatureDefinitionError, FeatureNotFoundError, MlforgeError } from "./errors";
import { errorMessage } from "./errors/error-message";
import { isFeature, type Feature } from "./feature";
import type { FeatureMetadata } from "./feature-metadata";
import type { FeatureFrame } from "./feature-frame";
import type { OfflineStore } from "./offline-store";
import { getTrainingData, type TrainingDataOptions } from "./point-in-time";
import { readFeature } from "./read-feature";
import type { Session } from "./session";
import { describeStoredFeature } from "./stored-feature";
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
}

/** Options of `Definitions.materialize()`, the storage-backends.md spelling of a selective build. */
export interface MaterializeOptions extends Omit<BuildOptions, "features"> {
  featureNames?: readonly string[];
}

const BUILD_OPTIONS = ["features", "tags", "force", "onProgress", "signal"];
const MATERIALIZE_OPTIONS = ["featureNames", "tags", "force", "onProgress", "signal"];

/** Throws `FeatureDefinitionError` for options a method does not know (a typo would otherwise build everything) or of the wrong type. */
function checkOptions(method: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new FeatureDefinitionError(`${method} takes an options object, for example ${method}({ features: ["user_total_spend"] }).`);
  }
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new FeatureDefinitionError(`${method} has unknown option ${unknown.map((key) => `'${key}'`).join(", ")}. Known options: ${known.join(", ")}.`);
  }
  const given = options as Record<string, unknown>;
  for (const key of ["features", "featureNames", "tags"]) {
    const value = given[key];
    if (value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === "string"))) {
      throw new FeatureDefinitionError(`${method} option '${key}' must be an array of names, for example ${key}: ["user_total_spend"].`);
    }
  }
  if (given.force !== undefined && typeof given.force !== "boolean") throw new FeatureDefinitionError(`${method} option 'force' must be true or false.`);
  if (given.onProgress !== undefined && typeof given.onProgress !== "function") throw new FeatureDefinitionError(`${method} option 'onProgress' must be a function.`);
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

  constructor(options: DefinitionsOptions) {
    if (typeof options?.name !== "string" || options.name.trim() === "") {
      throw new FeatureDefinitionError("Definitions needs a name, for example new Definitions({ name: \"user-features\", … }).");
    }
    if (typeof options.offlineStore?.putFile !== "function") {
      throw new FeatureDefinitionError("Definitions needs an offlineStore, for example offlineStore: new LocalStore(\"./feature_store\").");
    }
    const known = new Set(["name", "features", "offlineStore", "engine", "sources", "baseDirectory"]);
    const unknown = Object.keys(options).filter((key) => !known.has(key));
    if (unknown.length > 0) {
      throw new FeatureDefinitionError(`Definitions has unknown option ${unknown.map((key) => `'${key}'`).join(", ")}. Known options: ${[...known].join(", ")}.`);
    }
    if (options.baseDirectory !== undefined && (typeof options.baseDirectory !== "string" || options.baseDirectory === "")) {
      throw new FeatureDefinitionError("Definitions option 'baseDirectory' must be a directory path, for example baseDirectory: import.meta.dirname.");
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
    });
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
    checkOptions("build", options, BUILD_OPTIONS);
    const started = performance.now();
    const selected = this.select(options);
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    await this.offlineStore.check();

    const entries: FeatureBuildResult[] = [];
    const failedEntry = (item: Feature, error: unknown, featureStarted: number): FeatureBuildResult => ({
      name: item.name,
      status: "failed",
      rows: 0,
      bytes: 0,
      uri: "",
      durationMs: performance.now() - featureStarted,
      error: MlforgeError.isInstance(error) ? error : new FeatureBuildError(item.name, errorMessage(error), { cause: error }),
    });
    const finish = (index: number, entry: FeatureBuildResult) => {
      entries[index] = entry;
      onProgress?.({ type: "end", name: entry.name, index, total: selected.length, result: entry });
    };
    // At most one feature is being published (uploaded) while the next one computes: the upload
    // overlaps DuckDB's work, and at most two staged files exist at once.
    let publishing: Promise<void> = Promise.resolve();
    const engine = await Engine.open(this.session.engineOptions);
    const interrupt = () => engine.interrupt();
    signal?.addEventListener("abort", interrupt);
    try {
      for (const [index, item] of selected.entries()) {
        signal?.throwIfAborted();
        onProgress?.({ type: "start", name: item.name, index, total: selected.length });
        const featureStarted = performance.now();
        try {
          const outcome = await buildFeature(item, { session: this.session, engine, force: options.force ?? false, signal });
          if ("publish" in outcome) {
            await publishing;
            publishing = outcome.publish().then(
              (entry) => finish(index, entry),
              (error: unknown) => finish(index, failedEntry(item, error, featureStarted)),
            );
          } else finish(index, outcome);
        } catch (error) {
          signal?.throwIfAborted();
          finish(index, failedEntry(item, error, featureStarted));
        }
      }
    } finally {
      // Never leave an upload running behind the caller's back, even when aborted.
      await publishing;
      signal?.removeEventListener("abort", interrupt);
      engine.close();
    }
    const result: BuildResult = { built: [], skipped: [], failed: [], durationMs: 0 };
    for (const entry of entries) result[entry.status].push(entry);
    result.durationMs = performance.now() - started;
    if (result.failed.length > 0) throw new BuildError(result);
    return result;
  }

  /** Same as `build({ features: featureNames, … })`. */
  async materialize(options: MaterializeOptions = {}): Promise<BuildResult> {
    checkOptions("materialize", options, MATERIALIZE_OPTIONS);
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
   * The whole stored feature `name`, with `metadata` checked against the data file's footer;
   * throws `FeatureNotBuiltError` when it was never built.
   */
  async read(name: string): Promise<FeatureFrame> {
    this.feature(name);
    await this.offlineStore.check();
    return readFeature(this.session, name);
  }

  /** Point-in-time correct training data: one row per entity row, each feature joined as of the row's time. */
  getTrainingData(options: TrainingDataOptions): Promise<FeatureFrame> {
    return getTrainingData(this.session, options);
  }

  /** Releases what the stores hold (clients, connections). The definitions may not be used afterwards. Safe to call twice. */
  async close(): Promise<void> {
    this.closing ??= this.offlineStore.close();
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
