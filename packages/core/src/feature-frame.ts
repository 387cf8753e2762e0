import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Engine, type Column, type EngineOptions } from "./engine";
import { FeatureFrameClosedError } from "./errors";
import type { FeatureMetadata } from "./feature-metadata";
import { asSubquery, quoteIdentifier, quoteLiteral } from "./sql";
import { removeTemporaryDirectory } from "./temporary-directory";
import { freezeManifest, serializeTrainingManifest, TRAINING_FOOTER_KEY, type TrainingManifest } from "./training-manifest";
import { toJavaScript } from "./value-decoder";

/** What a `FeatureFrame` is made of. Made by `Definitions.read()` and `Definitions.getTrainingData()`, not by users. */
export interface FeatureFrameSource {
  /** One DuckDB query over local files whose result, in order, is the frame. */
  sql: string;
  /** The query's columns and DuckDB types. */
  schema: readonly Column[];
  /** How many rows the query returns. */
  numRows: number;
  /** DuckDB settings of the engines the frame opens. */
  engineOptions: EngineOptions;
  /** A directory from `createTemporaryDirectory()` holding files the query reads; the frame owns and removes it. @default none */
  temporaryDirectory?: string;
  /** The metadata of the stored feature the frame reads (`Definitions.read()`). @default undefined */
  metadata?: FeatureMetadata;
  /** What a training set was made from (`Definitions.getTrainingData()`); `writeParquet` stores it in the footer. @default undefined */
  manifest?: TrainingManifest;
  /**
   * The open engine that made the frame, handed over so that the method usually called at once
   * (`writeParquet`) does not start another DuckDB; the frame closes it. @default none
   */
  engine?: Engine;
}

/** Options of `FeatureFrame.writeParquet()` and `writeCsv()`. */
export interface FrameWriteOptions {
  /** Stops the write: the running query is interrupted, nothing is written (a previous file stays) and the promise rejects with the signal's reason. @default none */
  signal?: AbortSignal;
}

/**
 * How long a frame keeps the engine it was handed before closing it unused: long enough for the
 * call that usually follows at once, short enough that a frame left alone holds no DuckDB.
 */
const HANDED_ENGINE_MS = 2_000;

// A frame dropped without close() still gets its temporary files removed once it is garbage collected.
const abandoned = new FinalizationRegistry<string>((directory) => {
  removeTemporaryDirectory(directory).catch(() => undefined);
});

/**
 * A table of feature values that stays inside DuckDB until asked for: `rows()` brings it into
 * JavaScript, `writeParquet()` and `writeCsv()` copy it to a file without passing rows through
 * JavaScript.
 *
 * Why a frame is a query and not an open database: a frame holds only the SQL of its result over
 * local files (the store's Parquet files, and for entity rows given as objects a Parquet file it
 * owns) plus the engine settings. Each method opens a short-lived DuckDB engine and closes it in
 * `finally`, so a frame the caller forgets holds no native memory, threads or file handles, and
 * the DuckDB process state cannot leak between calls. The cost is that each method re-runs the
 * query (the join of `getTrainingData`); call `writeParquet` once rather than `rows()` repeatedly
 * on large data. The files are read when a method runs: rebuilding a feature in between changes
 * what an existing frame returns, so get a new frame after a build.
 *
 * One exception saves the start of a DuckDB database (about 10 ms) on the usual first call: the
 * engine that made the frame is handed over, and the first method runs on it and closes it; unused,
 * it is closed by `close()` or after two seconds.
 *
 * The only resource a frame holds beyond that is its owned temporary directory. `close()` (or
 * `await using`) removes it; a forgotten frame's directory is removed when the frame is garbage
 * collected or, at the latest, when the process exits.
 */
export class FeatureFrame implements AsyncDisposable {
  /** Column names, in order. */
  readonly columns: readonly string[];
  /** Column names with their DuckDB types, in order. */
  readonly schema: readonly Column[];
  /** Number of rows. */
  readonly numRows: number;
  /**
   * For `Definitions.read()`: the metadata of the data this frame reads, checked against the data
   * file's footer (rebuilt from it when the metadata document is stale); undefined for training data.
   */
  readonly metadata: FeatureMetadata | undefined;
  /**
   * For `Definitions.getTrainingData()`: the build of each feature, how it was joined and the entity
   * rows' fingerprint, which `writeParquet()` stores in the file's footer so that
   * `getTrainingData({ reproduce: file, entities })` can make the same training set again.
   * Undefined for `Definitions.read()`, and when a feature's data has no build id (a file placed by hand).
   */
  readonly manifest: TrainingManifest | undefined;

  private readonly sql: string;
  private readonly engineOptions: EngineOptions;
  private readonly temporaryDirectory: string | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;
  /** The engine that made the frame, until the first method takes it or it is closed unused. */
  private handedEngine: Engine | undefined;
  private handedEngineTimer: ReturnType<typeof setTimeout> | undefined;

  /** Wraps a query; use `Definitions.read()` or `Definitions.getTrainingData()` to get a frame. */
  constructor(source: FeatureFrameSource) {
    this.sql = source.sql;
    this.schema = Object.freeze(source.schema.map((column) => Object.freeze({ ...column })));
    this.columns = Object.freeze(this.schema.map((column) => column.name));
    this.numRows = source.numRows;
    this.metadata = source.metadata;
    this.manifest = source.manifest === undefined ? undefined : freezeManifest(source.manifest);
    this.engineOptions = { ...source.engineOptions };
    this.temporaryDirectory = source.temporaryDirectory;
    if (this.temporaryDirectory !== undefined) abandoned.register(this, this.temporaryDirectory, this);
    if (source.engine !== undefined) {
      this.handedEngine = source.engine;
      this.handedEngineTimer = setTimeout(() => this.takeHandedEngine()?.close(), HANDED_ENGINE_MS);
      // A frame nobody uses must not keep the process alive.
      this.handedEngineTimer.unref();
    }
  }

  /**
   * Every row as a plain object keyed by column name. Integers are `number`s when within
   * `Number.MAX_SAFE_INTEGER`, else `bigint`s; DECIMALs are `number`s; timestamps and dates are `Date`s.
   */
  rows(): Promise<Record<string, unknown>[]> {
    return this.withEngine((engine) => engine.convertedRows(this.sql, toJavaScript));
  }

  /**
   * The first `limit` rows, in the frame's order, with the same values as `rows()`. The limit is
   * applied inside DuckDB, so only those rows reach JavaScript: a cheap look at a large frame.
   */
  async head(limit: number): Promise<Record<string, unknown>[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`head() takes a whole number of rows of at least 0, got ${String(limit)}. Call it as frame.head(5).`);
    }
    return this.withEngine((engine) => engine.convertedRows(`SELECT * FROM ${asSubquery(this.sql)} LIMIT ${limit}`, toJavaScript));
  }

  /**
   * Writes the frame to a Parquet file (relative to `process.cwd()`), replacing it atomically; parent
   * directories are created. A training frame's `manifest` goes into the file's footer (key-value
   * metadata `mlforge_training`).
   */
  writeParquet(file: string, options: FrameWriteOptions = {}): Promise<void> {
    const footer = this.manifest === undefined ? "" : `, KV_METADATA {${quoteIdentifier(TRAINING_FOOTER_KEY)}: ${quoteLiteral(serializeTrainingManifest(this.manifest))}}`;
    return this.copyTo(file, `FORMAT parquet${footer}`, options);
  }

  /** Writes the frame to a CSV file with a header row (`.gz` compresses it), replacing it atomically; parent directories are created. */
  writeCsv(file: string, options: FrameWriteOptions = {}): Promise<void> {
    return this.copyTo(file, "FORMAT csv, HEADER true", options);
  }

  /** Removes the frame's temporary files once running methods finish; the frame cannot be used afterwards. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.takeHandedEngine()?.close();
      abandoned.unregister(this);
      await Promise.allSettled(this.running);
      if (this.temporaryDirectory !== undefined) await removeTemporaryDirectory(this.temporaryDirectory);
    })();
    return this.closing;
  }

  /** Same as `close()`, for `await using frame = await defs.getTrainingData(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async copyTo(file: string, options: string, { signal }: FrameWriteOptions): Promise<void> {
    const target = path.resolve(file);
    signal?.throwIfAborted();
    await this.withEngine(async (engine) => {
      await mkdir(path.dirname(target), { recursive: true });
      // Written beside the target and renamed, so no reader sees half a file; the name keeps the
      // target's extension because DuckDB picks the compression from it (`.csv.gz`).
      const staged = path.join(path.dirname(target), `.mlforge-${randomBytes(6).toString("hex")}-${path.basename(target)}`);
      const interrupt = () => engine.interrupt();
      signal?.addEventListener("abort", interrupt, { once: true });
      try {
        // An abort before the query started would be lost: the engine's interrupt only stops a running query.
        signal?.throwIfAborted();
        await engine.run(`COPY ${asSubquery(this.sql)} TO ${quoteLiteral(staged)} (${options})`);
        signal?.throwIfAborted();
        await rename(staged, target);
      } catch (error) {
        await rm(staged, { force: true });
        if (signal?.aborted) throw signal.reason;
        throw error;
      } finally {
        signal?.removeEventListener("abort", interrupt);
      }
    });
  }

  /** The handed-over engine, now the caller's to close; undefined once taken or closed. */
  private takeHandedEngine(): Engine | undefined {
    const engine = this.handedEngine;
    this.handedEngine = undefined;
    clearTimeout(this.handedEngineTimer);
    return engine;
  }

  private async withEngine<T>(work: (engine: Engine) => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new FeatureFrameClosedError();
    const task = (async () => {
      const engine = this.takeHandedEngine() ?? (await Engine.open(this.engineOptions));
      try {
        return await work(engine);
      } finally {
        engine.close();
      }
    })();
    this.running.add(task);
    try {
      return await task;
    } finally {
      this.running.delete(task);
    }
  }
}
