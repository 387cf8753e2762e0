import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assertFeatureName, StoreAccessError, type OfflineStore, type StoredFeature } from "@mlforge/core";

/** Options of `new LocalStore()`. */
export interface LocalStoreOptions {
  /** Directory holding the features (created on first write); relative paths resolve from `process.cwd()`. */
  path: string | URL;
}

const METADATA_DIR = "_metadata";

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
    const given = typeof options === "string" || options instanceof URL ? options : options?.path;
    if (!(typeof given === "string" && given !== "") && !(given instanceof URL)) {
      throw new StoreAccessError('LocalStore needs a directory path, for example new LocalStore("./feature_store").');
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

  /** Wraps a file-system failure in a `StoreAccessError` that says what to do. */
  private accessError(action: string, target: string, error: unknown): StoreAccessError {
    const code = errorCode(error);
    const hint =
      code === "EACCES" || code === "EPERM"
        ? "Check that this user may write there."
        : code === "ENOTDIR" || code === "EEXIST"
          ? "Part of that path is a file; point LocalStore at a directory."
          : "Check the path and the disk.";
    return new StoreAccessError(`LocalStore could not ${action} '${target}' (${code ?? String(error)}). ${hint}`, { cause: error });
  }

  /** Creates a directory inside the store, reporting a clear error when it cannot. */
  private async ensureDirectory(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true }).catch((error: unknown) => {
      throw this.accessError("create directory", directory, error);
    });
  }

  /** Fails when the store's path exists and is not a directory. A missing directory is fine: it is created on first write. */
  async check(): Promise<void> {
    const info = await stat(this.location).catch((error: unknown) => {
      if (errorCode(error) === "ENOENT") return undefined;
      throw this.accessError("read", this.location, error);
    });
    if (info !== undefined && !info.isDirectory()) {
      throw new StoreAccessError(`LocalStore path '${this.location}' is a file, not a directory. Point LocalStore at a directory.`);
    }
  }

  async stagingPath(name: string): Promise<string> {
    assertFeatureName(name);
    await this.ensureDirectory(this.location);
    // A dot-name in the same directory: invisible as a feature, and renamed on the same file system.
    return path.join(this.location, `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.parquet.tmp`);
  }

  async putFeature(name: string, stagedFile: string): Promise<StoredFeature> {
    const target = this.featurePath(name);
    try {
      const { size } = await stat(stagedFile);
      await rename(stagedFile, target);
      return { uri: target, bytes: size };
    } catch (error) {
      throw this.accessError("write", target, error);
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
      throw this.accessError("read", target, error);
    }
  }

  async putMetadata(name: string, document: string): Promise<void> {
    const target = this.metadataPath(name);
    await this.ensureDirectory(path.dirname(target));
    const temporary = path.join(path.dirname(target), `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.json.tmp`);
    try {
      await writeFile(temporary, document);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw this.accessError("write", target, error);
    }
  }

  async listMetadata(): Promise<string[]> {
    const directory = path.join(this.location, METADATA_DIR);
    const entries = await readdir(directory).catch((error: unknown) => {
      if (errorCode(error) === "ENOENT") return [];
      throw this.accessError("list", directory, error);
    });
    return entries
      .filter((entry) => entry.endsWith(".json") && !entry.startsWith("."))
      .map((entry) => entry.slice(0, -".json".length))
      .sort();
  }
}
