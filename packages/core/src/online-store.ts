/** The keys to read from one namespace. */
export interface OnlineReadRequest {
  namespace: string;
  keys: readonly string[];
}

/**
 * The contract every online store implements. Like `OfflineStore`, stores move bytes: core owns
 * key encoding, value encoding, batching, build switching, grace periods and TTL.
 *
 * The data model is namespaces of string keys and string values. Core writes each synced build of
 * a feature into a namespace of its own and switches readers over by rewriting one pointer entry,
 * so a store needs no transactions beyond "one `put` of one entry is atomic". A namespace is the
 * unit a store may co-locate (Redis Cluster keeps it on one shard) and removes at once.
 *
 * Names core uses: namespaces match `[A-Za-z0-9_./@-]+`; keys and values are any strings.
 * A missing key is `undefined`, not an exception. Problems reaching the store are
 * `StoreAccessError`s whose message names the store (without secrets) and says how to fix it.
 */
export interface OnlineStore {
  /** The store for messages, never with a password: `LocalOnlineStore at /srv/online_store`, `RedisOnlineStore at redis://cache:6379/0`. */
  readonly description: string;
  /** Proves the store answers, opening it when needed; throws `StoreAccessError` saying how to fix it. */
  check(): Promise<void>;
  /**
   * The values of every key of every request, in the requests' order (`undefined` where absent).
   * One round trip to a networked store (pipelined; on a cluster, one per shard in parallel).
   */
  get(requests: readonly OnlineReadRequest[]): Promise<Array<Array<string | undefined>>>;
  /** Writes entries into a namespace, pipelined. Each entry is atomic on its own; the batch need not be. */
  put(namespace: string, entries: ReadonlyArray<readonly [key: string, value: string]>): Promise<void>;
  /** Removes a namespace and every key in it; a missing namespace is no error. */
  deleteNamespace(namespace: string): Promise<void>;
  /** The namespaces holding at least one key whose name starts with `prefix`, in any order. */
  listNamespaces(prefix: string): Promise<string[]>;
  /** How many keys a namespace holds (0 when missing). */
  count(namespace: string): Promise<number>;
  /** Releases connections and handles; the store may not be used afterwards. Safe to call twice. */
  close(): Promise<void>;
}
