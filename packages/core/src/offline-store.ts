/** Where a feature's Parquet file landed in a store. */
export interface StoredFeature {
  /** A local path or a URI (`s3://bucket/prefix/name.parquet`). */
  uri: string;
  /** Size of the Parquet file in bytes. */
  bytes: number;
}

/**
 * The contract every offline store implements. Stores move bytes; `@mlforge/core` owns the
 * formats (Parquet data, the JSON metadata document) and everything else.
 *
 * Layout: `<root>/<feature>.parquet` and `<root>/_metadata/<feature>.json`. A missing document or
 * feature is `undefined`, not an exception. Problems reaching the store are `StoreAccessError`s.
 */
export interface OfflineStore {
  /**
   * Where the store keeps features: a local directory path, or a URI such as `s3://bucket/prefix`.
   * A store whose location is a directory serves its feature files in place (`getFeaturePath`
   * is cheap), so core may look at them after publishing and when deciding to skip.
   */
  readonly location: string;
  /** Proves the store can be reached; throws `StoreAccessError` with a message that says how to fix it. */
  check(): Promise<void>;
  /** A fresh local file path where core may write a new Parquet file for `name`; never visible as a feature. */
  stagingPath(name: string): Promise<string>;
  /** Publishes a staged file as feature `name`, replacing the previous version atomically; consumes the file. */
  putFeature(name: string, stagedFile: string): Promise<StoredFeature>;
  /** A local Parquet path to read feature `name` from (a remote store may download it), or undefined when it was never built. */
  getFeaturePath(name: string): Promise<string | undefined>;
  /** The metadata document of feature `name`, or undefined. */
  getMetadata(name: string): Promise<string | undefined>;
  /** Writes the metadata document of feature `name` atomically (after its data). */
  putMetadata(name: string, document: string): Promise<void>;
  /** Names of the features that have a metadata document. */
  listMetadata(): Promise<string[]>;
}
