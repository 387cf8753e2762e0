import { createHash } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { open, type Database, type RootDatabase } from "lmdb";
import { StoreAccessError, type OnlineReadRequest, type OnlineStore } from "@mlforge/core";

/** Options of `new LocalOnlineStore()`. */
export interface LocalOnlineStoreOptions {
  /** Directory holding the LMDB files `data.mdb` and `lock.mdb` (created on first use); relative paths resolve from `process.cwd()`. */
  path: string | URL;
}

/** LMDB refuses keys longer than this many bytes. */
const MAX_KEY_BYTES = 1978;

/**
 * How every process opens the store's LMDB environment: the syncing process, every reader, and
 * anything else that opens the directory (tests, inspection tools). Open it with exactly these
 * options: LMDB keeps its flags per process, and lmdb-js shares one environment per path within a
 * process, so whoever opens a path first decides the flags for everyone in that process.
 *
 * - `overlappingSync: false` (lmdb-js defaults it to true off Windows). With overlapping sync a
 *   commit returns before its data is on disk and the flush runs afterwards under a second,
 *   process-shared robust mutex (the "sync mutex" in lock.mdb). A sync process killed with SIGKILL
 *   while flushing leaves that mutex owner-dead; the next process to take it gets EOWNERDEAD, and
 *   LMDB's recovery (`mdb_mutex_failed`) treats any robust mutex other than the reader mutex as
 *   the write mutex: since the recovering process is itself inside a write transaction at that
 *   point, it decides "env is hosed", marks the environment MDB_FATAL_ERROR and returns MDB_PANIC
 *   ("Update of meta page failed"). The commit's flush promise then never resolves (a hang), and
 *   every later transaction of that process fails. Without overlapping sync each commit flushes
 *   its pages and writes its meta page synchronously inside the write transaction, under the
 *   write mutex only, whose owner-dead recovery LMDB handles (the dead writer's transaction is
 *   simply discarded): a killed sync costs nothing but its uncommitted transaction.
 * - No `noSync`, `noMetaSync`, `mapAsync` or `useWritemap`: a resolved `put` is on disk, and a
 *   stray write through the map cannot corrupt the file.
 * - `noSubdir: false`: lmdb-js would otherwise take a directory named with a dot (`store.v2`) for a file.
 *
 * The price is one fdatasync per transaction inside the write lock; transactions hold up to
 * 10,000 entries, and reads never wait for it (LMDB readers take no lock).
 */
export const LMDB_ENVIRONMENT_OPTIONS = Object.freeze({ noSubdir: false, maxDbs: 4, overlappingSync: false } as const);

/** Entries per write transaction: large puts commit in steps, so one transaction never holds gigabytes of dirty pages. */
const ENTRIES_PER_TRANSACTION = 10_000;

/** Written after the namespace in a data key; namespaces never hold characters below U+0020, so it ends the namespace unambiguously. */
const KEY_SEPARATOR = "\u0000";
/** Marks a key too long for LMDB, stored under its SHA-256 instead. Sorts right after `KEY_SEPARATOR`, so a namespace stays one key range. */
const HASHED_KEY_SEPARATOR = "\u0001";
/** Just past both separators: the end of a namespace's key range. */
const RANGE_END = "\u0002";

interface OpenedStore {
  root: RootDatabase;
  /** `<namespace>\0<key>` (or `<namespace>\1<sha256 of key>`) → value. */
  entries: Database<string, string>;
  /** namespace → how many keys it holds; a namespace with none has no entry. */
  namespaces: Database<number, string>;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}

/** The LMDB key of `key` in `namespace`. */
function entryKey(namespace: string, key: string): string {
  const plain = namespace + KEY_SEPARATOR + key;
  if (Buffer.byteLength(plain, "utf8") <= MAX_KEY_BYTES) return plain;
  return namespace + HASHED_KEY_SEPARATOR + createHash("sha256").update(key, "utf8").digest("hex");
}

function assertNamespace(namespace: string): void {
  if (typeof namespace !== "string" || namespace === "" || /[\u0000-\u001f]/.test(namespace)) {
    throw new TypeError(`Namespace ${JSON.stringify(namespace)} is not valid: use a non-empty name without control characters, such as "user_total_spend.v3".`);
  }
}

/**
 * An online store in an embedded LMDB database in a directory on disk: one process syncs, any
 * number read, each through its own memory map. Every `put` commits in LMDB write transactions,
 * so a process killed mid-write leaves every earlier committed entry readable and no torn value.
 */
export class LocalOnlineStore implements OnlineStore {
  /** Absolute path of the store's directory. */
  readonly location: string;
  readonly description: string;
  private opened: OpenedStore | undefined;
  private closed = false;

  constructor(options: string | URL | LocalOnlineStoreOptions) {
    const given = typeof options === "string" || options instanceof URL ? options : options?.path;
    if (!(typeof given === "string" && given !== "") && !(given instanceof URL)) {
      throw new StoreAccessError('LocalOnlineStore needs a directory path, for example new LocalOnlineStore("./online_store").');
    }
    this.location = path.resolve(given instanceof URL ? fileURLToPath(given) : given);
    this.description = `LocalOnlineStore at ${this.location}`;
  }

  /** Wraps a failure in a `StoreAccessError` that names the store and says what to do. */
  private accessError(action: string, error: unknown): StoreAccessError {
    const code = errorCode(error);
    const hint =
      code === "EACCES" || code === "EPERM"
        ? "Check that this user may read and write there (LMDB writes its lock file even to read)."
        : code === "ENOTDIR" || code === "EEXIST"
          ? "Part of that path is a file; point LocalOnlineStore at a directory."
          : code === "ENOSPC"
            ? "The disk is full; free space or move the store."
            : "Check the path and the disk.";
    const text = errorText(error);
    const reason = code === undefined || text.includes(code) ? text : `${code}: ${text}`;
    return new StoreAccessError(`${this.description} could not ${action} (${reason}). ${hint}`, { cause: error });
  }

  /** Opens the database on first use; synchronous, so concurrent first calls cannot open it twice. */
  private database(): OpenedStore {
    if (this.closed) {
      throw new StoreAccessError(`${this.description} is closed. Create a new LocalOnlineStore to use it again.`);
    }
    if (this.opened !== undefined) return this.opened;
    let info: ReturnType<typeof statSync> | undefined;
    try {
      info = statSync(this.location, { throwIfNoEntry: false });
    } catch (error) {
      throw this.accessError("read its directory", error);
    }
    if (info !== undefined && !info.isDirectory()) {
      throw new StoreAccessError(`LocalOnlineStore path '${this.location}' is a file, not a directory. Point LocalOnlineStore at a directory.`);
    }
    try {
      mkdirSync(this.location, { recursive: true });
    } catch (error) {
      throw this.accessError("create its directory", error);
    }
    try {
      // See LMDB_ENVIRONMENT_OPTIONS for why these options (overlapping sync off: SIGKILL-safe commits).
      const root = open({ ...LMDB_ENVIRONMENT_OPTIONS, path: this.location });
      const entries = root.openDB<string, string>({ name: "entries", encoding: "string" });
      const namespaces = root.openDB<number, string>({ name: "namespaces", encoding: "msgpack" });
      this.opened = { root, entries, namespaces };
      return this.opened;
    } catch (error) {
      throw this.accessError("open its LMDB database", error);
    }
  }

  async check(): Promise<void> {
    const { namespaces } = this.database();
    try {
      namespaces.getKeysCount({ limit: 1 });
    } catch (error) {
      throw this.accessError("read", error);
    }
  }

  async get(requests: readonly OnlineReadRequest[]): Promise<Array<Array<string | undefined>>> {
    const { entries } = this.database();
    try {
      // Synchronous reads in one event turn share one LMDB read snapshot, so the answer is consistent.
      return requests.map((request) => {
        assertNamespace(request.namespace);
        return request.keys.map((key) => entries.get(entryKey(request.namespace, key)));
      });
    } catch (error) {
      if (error instanceof TypeError) throw error;
      throw this.accessError("read", error);
    }
  }

  async put(namespace: string, entries: ReadonlyArray<readonly [key: string, value: string]>): Promise<void> {
    assertNamespace(namespace);
    const database = this.database();
    try {
      for (let start = 0; start < entries.length; start += ENTRIES_PER_TRANSACTION) {
        const chunk = entries.slice(start, start + ENTRIES_PER_TRANSACTION);
        await database.root.transaction(() => {
          let added = 0;
          for (const [key, value] of chunk) {
            const stored = entryKey(namespace, key);
            if (!database.entries.doesExist(stored)) added += 1;
            database.entries.putSync(stored, value);
          }
          if (added > 0) database.namespaces.putSync(namespace, (database.namespaces.get(namespace) ?? 0) + added);
        });
      }
      // Resolves once the commits are on disk, not only visible: a synced build survives a power cut.
      await database.root.flushed;
    } catch (error) {
      throw this.accessError(`write namespace '${namespace}'`, error);
    }
  }

  async deleteNamespace(namespace: string): Promise<void> {
    assertNamespace(namespace);
    const database = this.database();
    const range = { start: namespace + KEY_SEPARATOR, end: namespace + RANGE_END };
    try {
      for (;;) {
        const removed = await database.root.transaction(() => {
          const keys = [...database.entries.getKeys({ ...range, limit: ENTRIES_PER_TRANSACTION })];
          for (const key of keys) database.entries.removeSync(key);
          const left = (database.namespaces.get(namespace) ?? 0) - keys.length;
          if (left > 0 && keys.length === ENTRIES_PER_TRANSACTION) database.namespaces.putSync(namespace, left);
          else database.namespaces.removeSync(namespace);
          return keys.length;
        });
        if (removed < ENTRIES_PER_TRANSACTION) break;
      }
      await database.root.flushed;
    } catch (error) {
      throw this.accessError(`delete namespace '${namespace}'`, error);
    }
  }

  async listNamespaces(prefix: string): Promise<string[]> {
    const { namespaces } = this.database();
    try {
      const names: string[] = [];
      for (const name of namespaces.getKeys({ start: prefix })) {
        if (!name.startsWith(prefix)) break;
        names.push(name);
      }
      return names;
    } catch (error) {
      throw this.accessError("list namespaces", error);
    }
  }

  async count(namespace: string): Promise<number> {
    assertNamespace(namespace);
    const { namespaces } = this.database();
    try {
      return namespaces.get(namespace) ?? 0;
    } catch (error) {
      throw this.accessError(`count namespace '${namespace}'`, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opened = this.opened;
    this.opened = undefined;
    await opened?.root.close();
  }
}
