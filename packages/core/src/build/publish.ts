import { copyFile, link, rm } from "node:fs/promises";
import type { CheckResult } from "../checks";
import type { Engine } from "../engine";
import { metadataFromFooter, serializeMetadata, type FeatureFooter, type FeatureMetadata, type KeyStats, type StoredFileFacts } from "../feature-metadata";
import { dataKey, isBuildId, metadataKey, versionDataKey, versionIdsOf, versionMetadataKey, versionsPrefix } from "../layout";
import type { OfflineStore, PutFileOptions, StoredObject } from "../offline-store";
import { describeStoredFeature, metadataOfStoredFile, readFooter, readMetadataDocument, readStoredFile } from "../stored-feature";
import { pruneVersions } from "./prune-versions";

/** How many times a metadata document is written, at most, to match a data file that concurrent builds keep replacing. */
const METADATA_ATTEMPTS = 5;

/**
 * Writes the metadata document of `metadata.name`. For a store that serves files in place, it then
 * checks that the data file is still the one the document describes: a concurrent build of the same
 * feature may have replaced it in between, and then the document is rewritten from that file's
 * footer, until the two match. Returns the metadata last written.
 */
export async function publishMetadata(store: OfflineStore, metadata: FeatureMetadata, reader: Engine | undefined): Promise<FeatureMetadata> {
  let current = metadata;
  for (let attempt = 1; ; attempt++) {
    await store.putText(metadataKey(current.name), serializeMetadata(current));
    if (reader === undefined || attempt === METADATA_ATTEMPTS) return current;
    const path = await store.getFile(dataKey(current.name));
    // The footer alone tells whether the file is still this build's; the rest is read only if not.
    const footer = path === undefined ? undefined : await readFooter(reader, path).catch(() => undefined);
    if (footer === undefined || footer.buildId === current.buildId) return current;
    const file = await readStoredFile(reader, path!).catch(() => undefined);
    const described = file === undefined ? undefined : metadataOfStoredFile(current, file);
    if (described === undefined || described === current) return current;
    current = described;
  }
}

/** A feature's data in a local Parquet file, not yet in the store: its path, the footer written into it, and its stored columns, rows and size. */
export interface StagedData {
  /** A path from the store's `stagingPath(dataKey(footer.name))`. */
  path: string;
  footer: FeatureFooter;
  file: StoredFileFacts;
  /** The results of the feature's checks, for the metadata document. @default none */
  checks?: CheckResult[];
  /** How a time-stamped feature's rows spread over its keys, for the metadata document. @default none */
  keyStats?: KeyStats;
}

/** Options of `publishStaged`. */
export interface PublishOptions {
  /** How many versions of the feature the store keeps, the current one included; 0 keeps none (see `DefinitionsOptions.keepVersions`). */
  keepVersions: number;
  /** Stops the data uploads (see `PutFileOptions`); the steps after them (documents, copies) are short and run to their end. @default none */
  signal?: AbortSignal;
}

/** What `publishStaged` put in the store. */
export interface Published {
  /** The feature's current data object. */
  stored: StoredObject;
  metadata: FeatureMetadata;
  /** From `started` to the data file being in the store. */
  durationMs: number;
  /** Something to tell the user, such as old versions that could not be removed. @default none */
  note?: string;
}

/**
 * Puts a staged data file into the store as its feature's data, then writes its metadata document
 * (repaired against concurrent builds, see `publishMetadata`); removes the staged file either way.
 * `started` (a `performance.now()` time) is when the work that made the file began.
 *
 * With versions kept, the build is stored as a version first (its data, then its document), and
 * only then copied to the current key (see `makeCurrent`) and described by the current document:
 * a crash at any step leaves the previous current data in place, every current build also kept as
 * a version, and no version listed without its data. Older versions are then removed (`pruneVersions`).
 */
export async function publishStaged(store: OfflineStore, engine: Engine, staged: StagedData, started: number, options: PublishOptions): Promise<Published> {
  const { name, buildId } = staged.footer;
  // Publishing overlaps the next feature's computation on the main connection: reads go through their own.
  let reader: Engine | undefined;
  let kept: string | undefined;
  // Set while this build's version is stored but not (yet) current: a failure then withdraws it.
  let pending = false;
  try {
    if (store.capabilities.servesFilesInPlace) reader = await engine.fork();
    let durationMs = 0;
    const describe = (object: StoredObject): FeatureMetadata => ({
      ...metadataFromFooter(staged.footer, staged.file, { builtAt: new Date().toISOString(), durationMs: Math.round(durationMs) }),
      ...withEtag(object),
      ...(staged.checks === undefined || staged.checks.length === 0 ? {} : { checks: staged.checks }),
      ...(staged.keyStats === undefined ? {} : { keyStats: staged.keyStats }),
    });
    let stored: StoredObject;
    let metadata: FeatureMetadata;
    const upload = options.signal === undefined ? undefined : { signal: options.signal };
    if (options.keepVersions === 0) {
      stored = await store.putFile(dataKey(name), staged.path, upload);
      durationMs = performance.now() - started;
      metadata = describe(stored);
    } else {
      await keepUnversionedCurrent(store, name, reader);
      // A store that downloads may refuse the copy to the current key (S3 credentials without
      // s3:GetObject): the staged bytes are then uploaded again, so a link to them is kept.
      if (!store.capabilities.servesFilesInPlace) kept = await keepStagedFile(store, staged.path, name);
      const version = await store.putFile(versionDataKey(name, buildId), staged.path, upload);
      pending = true;
      durationMs = performance.now() - started;
      const versionMetadata = describe(version);
      await store.putText(versionMetadataKey(name, buildId), serializeMetadata(versionMetadata));
      stored = await makeCurrent(store, name, buildId, kept, upload);
      pending = false;
      metadata = describeObject(versionMetadata, stored);
    }
    const published = await publishMetadata(store, metadata, reader);
    const note = await pruneVersions(store, name, options.keepVersions, published.buildId);
    return { stored, metadata: published, durationMs, ...(note === undefined ? {} : { note }) };
  } finally {
    reader?.close();
    await rm(staged.path, { force: true });
    if (kept !== undefined) await rm(kept, { force: true });
    // A version that never became current is withdrawn (best effort: retention removes what is left).
    if (pending) await withdrawVersion(store, name, buildId);
  }
}

/**
 * Makes kept version `buildId` of feature `name` its current data, atomically: the store copies
 * it to the current key (a link, a server-side copy). When the store cannot (S3 credentials
 * without s3:GetObject, which a copy needs) and `kept` is a local file of the same bytes, it is
 * uploaded instead (and consumed; `upload` stops it as it does `putFile`). Returns the current data object.
 */
export async function makeCurrent(store: OfflineStore, name: string, buildId: string, kept?: string, upload?: PutFileOptions): Promise<StoredObject> {
  try {
    return await store.copy(versionDataKey(name, buildId), dataKey(name));
  } catch (error) {
    if (kept === undefined) throw error;
    return store.putFile(dataKey(name), kept, upload);
  }
}

/** `{ dataEtag }` of a stored object, when the store has version tokens. */
function withEtag(object: StoredObject): { dataEtag?: string } {
  return object.etag === undefined ? {} : { dataEtag: object.etag };
}

/** `metadata` as the document of another object of the same bytes (a copy has its own version token). */
export function describeObject(metadata: FeatureMetadata, object: StoredObject): FeatureMetadata {
  const { dataEtag: _etag, ...rest } = metadata;
  return { ...rest, ...withEtag(object) };
}

/** A hard link (or, where links are not possible, a copy) of a staged file, in a fresh staging path of feature `name`. */
async function keepStagedFile(store: OfflineStore, staged: string, name: string): Promise<string> {
  const kept = await store.stagingPath(dataKey(name));
  await rm(kept, { force: true });
  await link(staged, kept).catch(() => copyFile(staged, kept));
  return kept;
}

/**
 * Keeps the current data of feature `name` as a version when the store keeps no version of it
 * (it was built before versions existed, or with `keepVersions: 0`), so that the build about to
 * replace it does not replace its only copy. `reader` reads footers of a store that serves files
 * in place; a remote store's data is described by its document when the data's version token
 * matches. Best effort: when the store cannot (S3 without s3:GetObject) nothing is kept.
 */
async function keepUnversionedCurrent(store: OfflineStore, name: string, reader: Engine | undefined): Promise<void> {
  try {
    if (versionIdsOf(name, await store.list(versionsPrefix(name))).length > 0) return;
    const head = await store.head(dataKey(name));
    if (head === undefined) return;
    const remote = async () => {
      const document = await readMetadataDocument(store, name);
      return head.etag !== undefined && document?.dataEtag === head.etag ? document : undefined;
    };
    const metadata = reader !== undefined ? await describeStoredFeature(reader, store, name) : await remote();
    if (metadata === undefined || !isBuildId(metadata.buildId)) return;
    const key = versionDataKey(name, metadata.buildId);
    const copied = await store.copy(dataKey(name), key);
    // Another build may have replaced the current data since it was described: keep only that build.
    const same = reader !== undefined ? await holdsBuild(reader, await store.getFile(key), metadata.buildId) : (await store.head(dataKey(name)))?.etag === head.etag;
    if (!same) return await store.delete(key);
    await store.putText(versionMetadataKey(name, metadata.buildId), serializeMetadata(describeObject(metadata, copied)));
  } catch {
    // Best effort: the build goes on as it would without versions.
  }
}

/** True when the local Parquet file `path` was written by build `buildId` (its footer says so). */
async function holdsBuild(reader: Engine, path: string | undefined, buildId: string): Promise<boolean> {
  return path !== undefined && (await readFooter(reader, path))?.buildId === buildId;
}

/** Removes a version's document, then its data; never rejects. */
async function withdrawVersion(store: OfflineStore, name: string, buildId: string): Promise<void> {
  try {
    await store.delete(versionMetadataKey(name, buildId));
    await store.delete(versionDataKey(name, buildId));
  } catch {
    // Left for retention.
  }
}
