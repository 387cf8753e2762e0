/** What a store knows about one stored object, without reading it. */
export interface StoredObject {
  /** Where the object lives: a local path, or a URI such as `s3://bucket/prefix/user_total_spend.parquet`. */
  uri: string;
  /** Size in bytes. */
  bytes: number;
  /** A token that changes whenever the object does (S3: the ETag), when the store has one. @default undefined */
  etag?: string;
}

/** What a store declares about itself, so that core need not guess from its location. */
export interface OfflineStoreCapabilities {
  /**
   * True when `getFile` returns the stored file itself (a directory on disk): core may then read
   * data files whenever it helps, such as to repair a stale metadata document. False when
   * `getFile` may download (S3): core then asks for a data file only when it needs the data.
   */
  servesFilesInPlace: boolean;
}

/** Options of `OfflineStore.putFile`. */
export interface PutFileOptions {
  /**
   * Stops the write: `putFile` then rejects with the signal's reason, publishes nothing (the
   * previous object stays), consumes the file and removes what it had started (such as a multipart
   * upload). When it cannot remove something, it rejects with a `StoreAccessError` saying what it
   * left and where instead. A write that cannot be cut short (a rename) may ignore the signal; one
   * that finished anyway resolves as usual. @default none
   */
  signal?: AbortSignal;
}

/**
 * The contract every offline store implements: a small key-based byte store. Stores move bytes;
 * `@mlforge/core` owns every key (see `layout.ts`: `<feature>.parquet`, `_metadata/<feature>.json`,
 * `_versions/<feature>/<buildId>.parquet|json`) and every format (Parquet data, the JSON metadata
 * document), so each store writes the same layout. Objects are immutable once stored: a key is
 * only ever replaced whole, never written in place, so a store may share bytes between keys (a
 * hard link, a server-side copy).
 *
 * Keys are `/`-separated relative paths of `[A-Za-z0-9_.@-]` segments. A missing object is
 * `undefined`, not an exception. Every other problem is a `StoreAccessError`; a store reports
 * "the credentials may not read this" as `StoreAccessError` with `reason: "access-denied"`, which
 * core treats as "cannot tell" where that is safe (a write-only build then rebuilds), while every
 * other failure (an outage) surfaces.
 */
export interface OfflineStore {
  /** Where the store keeps objects, for messages and results: a directory path or a URI such as `s3://bucket/prefix`. */
  readonly location: string;
  /** What the store can do; see `OfflineStoreCapabilities`. */
  readonly capabilities: OfflineStoreCapabilities;
  /** Proves the store can be reached; throws `StoreAccessError` with a message that says how to fix it. */
  check(): Promise<void>;
  /** A fresh local file path where core may write a file that `putFile` will publish under `key`; never visible in the store. */
  stagingPath(key: string): Promise<string>;
  /** Publishes a local file as `key`, replacing any previous object atomically; consumes the file. */
  putFile(key: string, file: string, options?: PutFileOptions): Promise<StoredObject>;
  /** A local path holding the object's bytes (a remote store downloads it into a cache), or undefined when missing. */
  getFile(key: string): Promise<string | undefined>;
  /** Where the object is and its size, without downloading it; undefined when missing. */
  head(key: string): Promise<StoredObject | undefined>;
  /** A small text object (a metadata document), or undefined when missing. */
  getText(key: string): Promise<string | undefined>;
  /** Writes a small text object atomically. */
  putText(key: string, text: string): Promise<void>;
  /** Keys of the objects directly or indirectly under `prefix` (which ends with `/`), sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Copies an object to another key, replacing it atomically, without passing its bytes through
   * core: a store may link (a file system) or copy server-side (S3 CopyObject). Returns the new
   * object as `putFile` does (its `etag` is the copy's own); throws when `from` is missing, and a
   * `StoreAccessError` with `reason: "access-denied"` when the credentials may not (core then
   * uploads its own copy of the bytes where it has one).
   */
  copy(from: string, to: string): Promise<StoredObject>;
  /** Removes an object; a missing object is no error. */
  delete(key: string): Promise<void>;
  /** Releases clients and handles. Safe to call twice. */
  close(): Promise<void>;
}
