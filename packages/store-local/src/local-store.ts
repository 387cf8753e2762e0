import { randomBytes } from "node:crypto";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { StoreAccessError, type OfflineStore, type StoredObject } from "@mlforge/core";
import { assertStoreKey, checkOptions } from "@mlforge/core/store-kit";

/** Options of `new LocalStore()`. */
export interface LocalStoreOptions {
  /** Directory holding the features (created on first write); relative paths resolve from `process.cwd()`. */
  path: string | URL;
}

/** Temporary files this store writes beside their target `<stem>.<extension>`: `.<stem>.<pid>.<random>.<extension>.tmp`. */
const TEMPORARY_FILE = /^\.[A-Za-z0-9_.@-]+\.(\d+)\.[0-9a-f]+\.[A-Za-z0-9]+\.tmp$/;

/** A temporary file older than this is left over even if its process id is alive again (reused). */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/** A fresh temporary file name matching `TEMPORARY_FILE`, beside `target`. */
function temporaryPath(target: string): string {
  const extension = path.extname(target);
  const stem = path.basename(target, extension);
  return path.join(path.dirname(target), `.${stem}.${process.pid}.${randomBytes(6).toString("hex")}.${extension.slice(1) || "bin"}.tmp`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === "EPERM";
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * An offline store in a directory on disk: each key is a file under `path` (core's layout:
 * `<feature>.parquet`, `_metadata/<feature>.json`, `_versions/<feature>/<buildId>.parquet|json`).
 * Files are written beside their target and renamed into place, so a reader never sees a
 * half-written file and no stored file is ever written in place: a kept version and the current
 * data are hard links of one file.
 */
export class LocalStore implements OfflineStore {
  /** Absolute path of the store's directory. */
  readonly location: string;
  /** Files are read where they are stored. */
  readonly capabilities = Object.freeze({ servesFilesInPlace: true });

  constructor(options: string | URL | LocalStoreOptions) {
    // A misspelt key ({ pth: "…" }) is named as such rather than reported as a missing path.
    if (typeof options === "object" && options !== null && !(options instanceof URL)) checkOptions("LocalStore", options, { path: "any" });
    const given = typeof options === "string" || options instanceof URL ? options : options?.path;
    if (!(typeof given === "string" && given !== "") && !(given instanceof URL)) {
      throw new StoreAccessError('LocalStore needs a directory path, for example new LocalStore("./feature_store").', { store: "LocalStore", operation: "constructor" });
    }
    this.location = path.resolve(given instanceof URL ? fileURLToPath(given) : given);
  }

  private pathOf(key: string): string {
    assertStoreKey(key);
    return path.join(this.location, ...key.split("/"));
  }

  /** How errors name this store. */
  private get description(): string {
    return `LocalStore at ${this.location}`;
  }

  /** Wraps a file-system failure of `operation` (an OfflineStore method) in a `StoreAccessError` that says what to do. */
  private accessError(operation: string, action: string, target: string, error: unknown): StoreAccessError {
    const code = errorCode(error);
    const hint =
      code === "EACCES" || code === "EPERM"
        ? "Check that this user may write there."
        : code === "ENOTDIR" || code === "EEXIST"
          ? "Part of that path is a file; point LocalStore at a directory."
          : "Check the path and the disk.";
    return new StoreAccessError(`LocalStore could not ${action} '${target}' (${code ?? String(error)}). ${hint}`, { cause: error, store: this.description, operation });
  }

  /** Creates a directory inside the store, reporting a clear error when it cannot. */
  private async ensureDirectory(operation: string, directory: string): Promise<void> {
    await mkdir(directory, { recursive: true }).catch((error: unknown) => {
      throw this.accessError(operation, "create directory", directory, error);
    });
  }

  /**
   * Fails when the store's path exists and is not a directory (a missing directory is fine: it is
   * created on first write), then removes temporary files that a killed build left behind.
   */
  async check(): Promise<void> {
    const info = await stat(this.location).catch((error: unknown) => {
      if (errorCode(error) === "ENOENT") return undefined;
      throw this.accessError("check", "read", this.location, error);
    });
    if (info !== undefined && !info.isDirectory()) {
      throw new StoreAccessError(`LocalStore path '${this.location}' is a file, not a directory. Point LocalStore at a directory.`, {
        store: this.description,
        operation: "check",
      });
    }
    if (info !== undefined) await this.removeLeftovers();
  }

  /** Removes temporary files whose writing process is gone (killed mid-build); a running build's files are kept. */
  private async removeLeftovers(): Promise<void> {
    const entries = await readdir(this.location, { recursive: true }).catch(() => [] as string[]);
    for (const entry of entries) {
      const match = TEMPORARY_FILE.exec(path.basename(entry));
      if (match === null || Number(match[1]) === process.pid) continue;
      const file = path.join(this.location, entry);
      const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (!processIsAlive(Number(match[1])) || age > STALE_AFTER_MS) await rm(file, { force: true });
    }
  }

  async stagingPath(key: string): Promise<string> {
    const target = this.pathOf(key);
    await this.ensureDirectory("stagingPath", path.dirname(target));
    // A dot-name beside the target: invisible as an object, and renamed on the same file system.
    const staged = temporaryPath(target);
    // Created empty here, so that a directory this user may not write to is reported as such, not as an engine error.
    await writeFile(staged, "", { flag: "wx" }).catch((error: unknown) => {
      throw this.accessError("stagingPath", "write in", path.dirname(target), error);
    });
    return staged;
  }

  async putFile(key: string, file: string): Promise<StoredObject> {
    const target = this.pathOf(key);
    try {
      await this.ensureDirectory("putFile", path.dirname(target));
      const { size } = await stat(file);
      await rename(file, target);
      return { uri: target, bytes: size };
    } catch (error) {
      if (StoreAccessError.isInstance(error)) throw error;
      throw this.accessError("putFile", "write", target, error);
    }
  }

  async getFile(key: string): Promise<string | undefined> {
    return (await this.head(key))?.uri;
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const target = this.pathOf(key);
    const info = await stat(target).catch(() => undefined);
    return info?.isFile() ? { uri: target, bytes: info.size } : undefined;
  }

  async getText(key: string): Promise<string | undefined> {
    const target = this.pathOf(key);
    try {
      return await readFile(target, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw this.accessError("getText", "read", target, error);
    }
  }

  async putText(key: string, text: string): Promise<void> {
    await this.replace("putText", "write", this.pathOf(key), (temporary) => writeFile(temporary, text));
  }

  /** Writes `target` beside itself with `write`, then renames it into place: no reader sees half a file. */
  private async replace(operation: string, action: string, target: string, write: (temporary: string) => Promise<void>): Promise<void> {
    await this.ensureDirectory(operation, path.dirname(target));
    const temporary = temporaryPath(target);
    try {
      await write(temporary);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw this.accessError(operation, action, target, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const directory = prefix === "" ? this.location : this.pathOf(prefix.replace(/\/$/, ""));
    const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
      if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return [];
      throw this.accessError("list", "list", directory, error);
    });
    return entries
      .filter((entry) => entry.isFile() && !entry.name.startsWith("."))
      .map((entry) => path.relative(this.location, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  /**
   * A hard link where the file system allows one (no second copy on disk: objects are never
   * written in place, only replaced by a rename, so the two keys can share the bytes), else a copy.
   */
  async copy(from: string, to: string): Promise<StoredObject> {
    const source = this.pathOf(from);
    const target = this.pathOf(to);
    let bytes = 0;
    await this.replace("copy", "copy to", target, async (temporary) => {
      await link(source, temporary).catch((error: unknown) => {
        // A missing source cannot be copied either; any other refusal (a file system without links) can.
        if (errorCode(error) === "ENOENT") throw error;
        return copyFile(source, temporary);
      });
      bytes = (await stat(temporary)).size;
    });
    return { uri: target, bytes };
  }

  async delete(key: string): Promise<void> {
    const target = this.pathOf(key);
    await rm(target, { force: true }).catch((error: unknown) => {
      throw this.accessError("delete", "remove", target, error);
    });
  }

  /** Holds nothing open: nothing to release. */
  async close(): Promise<void> {}
}
