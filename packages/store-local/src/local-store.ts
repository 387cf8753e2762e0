import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { StoreAccessError } from "@mlforge/core";
import { assertFeatureName, checkOptions, type OfflineStore, type StoredFeature } from "@mlforge/core/store-kit";

/** Options of `new LocalStore()`. */
export interface LocalStoreOptions {
  /** Directory holding the features (created on first write); relative paths resolve from `process.cwd()`. */
  path: string | URL;
}

const METADATA_DIR = "_metadata";

/** Temporary files this store writes: `.<feature>.<pid>.<random>.(parquet|json).tmp`. */
const TEMPORARY_FILE = /^\.[A-Za-z_][A-Za-z0-9_]*\.(\d+)\.[0-9a-f]+\.(parquet|json)\.tmp$/;

/** A temporary file older than this is left over even if its process id is alive again (reused). */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/** A fresh temporary file name matching `TEMPORARY_FILE`, in `directory`. */
function temporaryPath(directory: string, name: string, extension: "parquet" | "json"): string {
  return path.join(directory, `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.${extension}.tmp`);
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
 * An offline store in a directory on disk: `<path>/<feature>.parquet` and
 * `<path>/_metadata/<feature>.json`. Files are written beside their target and renamed into
 * place, so a reader never sees a half-written file.
 */
export class LocalStore implements OfflineStore {
  /** Absolute path of the store's directory. */
  readonly location: string;

  constructor(options: string | URL | LocalStoreOptions) {
    // A misspelt key ({ pth: "…" }) is named as such rather than reported as a missing path.
    if (typeof options === "object" && options !== null && !(options instanceof URL)) checkOptions("LocalStore", options, { path: "any" });
    const given = typeof options === "string" || options instanceof URL ? options : options?.path;
    if (!(typeof given === "string" && given !== "") && !(given instanceof URL)) {
      throw new StoreAccessError('LocalStore needs a directory path, for example new LocalStore("./feature_store").', { store: "LocalStore", operation: "constructor" });
    }
    this.location = path.resolve(given instanceof URL ? fileURLToPath(given) : given);
  }

  private featurePath(name: string): string {
    assertFeatureName(name);
    return path.join(this.location, `${name}.parquet`);
  }

  private metadataPath(name: string): string {
    assertFeatureName(name);
    return path.join(this.location, METADATA_DIR, `${name}.json`);
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
    for (const directory of [this.location, path.join(this.location, METADATA_DIR)]) {
      const entries = await readdir(directory).catch(() => [] as string[]);
      for (const entry of entries) {
        const match = TEMPORARY_FILE.exec(entry);
        if (match === null || Number(match[1]) === process.pid) continue;
        const file = path.join(directory, entry);
        const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now());
        if (!processIsAlive(Number(match[1])) || age > STALE_AFTER_MS) await rm(file, { force: true });
      }
    }
  }

  async stagingPath(name: string): Promise<string> {
    assertFeatureName(name);
    await this.ensureDirectory("stagingPath", this.location);
    // A dot-name in the same directory: invisible as a feature, and renamed on the same file system.
    const staged = temporaryPath(this.location, name, "parquet");
    // Created empty here, so that a directory this user may not write to is reported as such, not as an engine error.
    await writeFile(staged, "", { flag: "wx" }).catch((error: unknown) => {
      throw this.accessError("stagingPath", "write in", this.location, error);
    });
    return staged;
  }

  async putFeature(name: string, stagedFile: string): Promise<StoredFeature> {
    const target = this.featurePath(name);
    try {
      const { size } = await stat(stagedFile);
      await rename(stagedFile, target);
      return { uri: target, bytes: size };
    } catch (error) {
      throw this.accessError("putFeature", "write", target, error);
    }
  }

  async getFeaturePath(name: string): Promise<string | undefined> {
    const target = this.featurePath(name);
    const info = await stat(target).catch(() => undefined);
    return info?.isFile() ? target : undefined;
  }

  async getMetadata(name: string): Promise<string | undefined> {
    const target = this.metadataPath(name);
    try {
      return await readFile(target, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw this.accessError("getMetadata", "read", target, error);
    }
  }

  async putMetadata(name: string, document: string): Promise<void> {
    const target = this.metadataPath(name);
    await this.ensureDirectory("putMetadata", path.dirname(target));
    const temporary = temporaryPath(path.dirname(target), name, "json");
    try {
      await writeFile(temporary, document);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw this.accessError("putMetadata", "write", target, error);
    }
  }

  async listMetadata(): Promise<string[]> {
    const directory = path.join(this.location, METADATA_DIR);
    const entries = await readdir(directory).catch((error: unknown) => {
      if (errorCode(error) === "ENOENT") return [];
      throw this.accessError("listMetadata", "list", directory, error);
    });
    return entries
      .filter((entry) => entry.endsWith(".json") && !entry.startsWith("."))
      .map((entry) => entry.slice(0, -".json".length))
      .sort();
  }
}
