import { stat } from "node:fs/promises";
import type { Engine } from "./engine";
import { FeatureNotBuiltError, FeatureVersionNotFoundError, StoreAccessError } from "./errors";
import { errorMessage, firstLine } from "./errors/error-message";
import { checkMetadata, FOOTER_KEY, metadataFromFooter, parseFooter, type FeatureFooter, type FeatureMetadata, type MetadataDocument, type StoredFileFacts } from "./feature-metadata";
import { dataKey, isBuildId, metadataKey, versionDataKey, versionIdsOf, versionMetadataKey, versionsPrefix } from "./layout";
import type { OfflineStore } from "./offline-store";
import { quoteLiteral } from "./sql";
import { quotePath } from "./literal-path";

/**
 * The one answer to "what is stored for this feature now": the local data file, and the metadata
 * that describes it (the document when it was written by the same build, else rebuilt from the
 * file's footer). Read, training data, inspect, list and the online sync all open features here.
 */
export interface StoredFeature {
  name: string;
  /** A local Parquet path holding the data (for a remote store, a cached download). */
  path: string;
  /** Undefined only for a data file written by no version of mlforge that left a footer or document. */
  metadata: FeatureMetadata | undefined;
}

/** A feature's data file as it is now: mlforge's footer document (undefined when it has none), columns, rows and size. */
export interface StoredFile extends StoredFileFacts {
  /** The local path it was read from. */
  path: string;
  footer: FeatureFooter | undefined;
}

/** mlforge's footer document of a Parquet file, or undefined when it has none. */
export async function readFooter(engine: Engine, path: string): Promise<FeatureFooter | undefined> {
  const sql = `SELECT decode(value) AS document FROM parquet_kv_metadata(${quotePath(path)}) WHERE key = ${quoteLiteral(FOOTER_KEY)}::BLOB`;
  return parseFooter((await engine.rows(sql))[0]?.document as string | undefined);
}

/** Reads a Parquet file's footer document, row count, columns and size once; see `readStoredFile`. */
async function readOnce(engine: Engine, path: string): Promise<StoredFile> {
  const file = quotePath(path);
  // One query for the document and the row count: both come from the footer, read once.
  const [facts] = await engine.rows(
    `SELECT (SELECT decode(value) FROM parquet_kv_metadata(${file}) WHERE key = ${quoteLiteral(FOOTER_KEY)}::BLOB) AS document,
            (SELECT sum(num_rows) FROM parquet_file_metadata(${file}))::BIGINT AS row_count`,
  );
  const { size } = await stat(path);
  const schema = await engine.columns(`SELECT * FROM read_parquet(${file})`);
  return { path, footer: parseFooter(facts?.document as string | undefined), schema, rows: Number(facts?.row_count ?? 0), bytes: size };
}

/**
 * Reads what a stored Parquet file says about itself, from its footer: mlforge's document, the
 * columns, the row count, and the file's size. Another build may replace the file between the
 * reads (a rename), so the document is read again last: every build has its own id, so the same
 * id before and after means every read saw the same file. Throws the engine's error when the
 * file is not Parquet.
 */
export async function readStoredFile(engine: Engine, path: string): Promise<StoredFile> {
  for (let attempt = 1; ; attempt++) {
    const file = await readOnce(engine, path);
    if (attempt === 3 || file.footer?.buildId === (await readFooter(engine, path))?.buildId) return file;
  }
}

/**
 * Reads the data file of feature `name` (see `readStoredFile`) and checks that it holds that
 * feature; a file that is not Parquet (damaged or truncated outside mlforge) is a `StoreAccessError`
 * that says to rebuild it, not the engine's error.
 */
async function readFeatureFile(engine: Engine, store: OfflineStore, name: string, path: string): Promise<StoredFile> {
  let file: StoredFile;
  try {
    file = await readStoredFile(engine, path);
  } catch (error) {
    throw new StoreAccessError(
      `The stored data of feature '${name}' (${path}) is not a readable Parquet file (${firstLine(errorMessage(error))}). ` +
        `Rebuild it with build({ features: ["${name}"], force: true }) (mlforge build --features ${name} --force).`,
      { cause: error, store: store.location, operation: "read" },
    );
  }
  assertHoldsFeature(name, file, store);
  return file;
}

/**
 * Throws `StoreAccessError` when the data file of feature `name` holds another feature (its footer
 * names it): a file copied or renamed by hand would otherwise be served as this feature.
 */
export function assertHoldsFeature(name: string, file: StoredFile, store: OfflineStore): void {
  if (file.footer !== undefined && file.footer.name !== name) {
    throw new StoreAccessError(
      `The stored data of feature '${name}' in ${store.location} holds feature '${file.footer.name}' (its footer says so): the file was copied or renamed by hand. ` +
        `Rebuild it with build({ features: ["${name}"], force: true }) (mlforge build --features ${name} --force).`,
      { store: store.location, operation: "read" },
    );
  }
}

/**
 * True when `document` describes the file of feature `name` whose footer is `footer`: the footer
 * repeats the document's build id, so the document's rows and schema are that file's and nothing
 * else needs reading from it.
 */
export function footerMatches(footer: FeatureFooter | undefined, document: FeatureMetadata | undefined, name: string): document is FeatureMetadata {
  return footer !== undefined && document !== undefined && footer.name === name && footer.buildId === document.buildId;
}

/** The metadata that describes `file`: the document when it was written by the same build, else rebuilt from the file's footer. */
export function metadataOfStoredFile(document: FeatureMetadata | undefined, file: StoredFile): FeatureMetadata | undefined {
  // A file without mlforge's footer (written by an older version) is described by its document alone.
  if (file.footer === undefined) return document;
  if (document?.buildId === file.footer.buildId) return document;
  return metadataFromFooter(file.footer, file);
}

/**
 * The metadata document of feature `name`, or undefined when there is none or it cannot be parsed.
 * With `deniedIsMissing`, a store that may not read it (write-only credentials: s3:PutObject and
 * s3:ListBucket, no s3:GetObject) counts as "none": nobody can tell whether the feature changed,
 * and rebuilding is always correct. Every other failure (an outage) is thrown, never taken for
 * "not built", so a network error cannot turn into a silent full rebuild.
 */
export async function readMetadataDocument(store: OfflineStore, name: string, options: { deniedIsMissing?: boolean } = {}): Promise<FeatureMetadata | undefined> {
  return (await readCheckedMetadata(store, name, options))?.metadata;
}

/** The metadata document of feature `name` with what is wrong with its shape, if anything (see `readMetadataDocument`). */
export async function readCheckedMetadata(store: OfflineStore, name: string, options: { deniedIsMissing?: boolean } = {}): Promise<MetadataDocument | undefined> {
  try {
    return checkMetadata(await store.getText(metadataKey(name)));
  } catch (error) {
    if (options.deniedIsMissing === true && StoreAccessError.isInstance(error) && error.reason === "access-denied") return undefined;
    throw error;
  }
}

/** A stored feature to open: its name, and a build id to open that kept version instead of the current data. */
export interface FeatureRef {
  name: string;
  /** A build id from `defs.versions(name)`. @default the current data */
  version?: string;
}

/**
 * The footer documents of several Parquet files, in order (undefined for a file without one), read
 * in one query. Throws the engine's error when any of them is not a readable Parquet file.
 */
async function readFooters(engine: Engine, paths: readonly string[]): Promise<Array<FeatureFooter | undefined>> {
  const sql = paths
    .map((path, index) => `SELECT ${index} AS file_index, decode(value) AS document FROM parquet_kv_metadata(${quotePath(path)}) WHERE key = ${quoteLiteral(FOOTER_KEY)}::BLOB`)
    .join(" UNION ALL ");
  const footers: Array<FeatureFooter | undefined> = paths.map(() => undefined);
  for (const row of await engine.rows(sql)) footers[Number(row.file_index)] = parseFooter(row.document as string | undefined);
  return footers;
}

/**
 * Opens every named feature, in order: its local data file (downloaded by a remote store) and the
 * metadata that describes that file; a `{ name, version }` opens that kept version (see `openVersion`).
 * Throws `FeatureNotBuiltError` naming every one never built.
 */
export async function openStoredFeatures(engine: Engine, store: OfflineStore, refs: readonly (string | FeatureRef)[]): Promise<StoredFeature[]> {
  const requests = refs.map((ref) => (typeof ref === "string" ? { name: ref } : ref));
  const versions = new Map<number, Promise<StoredFeature>>();
  for (const [index, { name, version }] of requests.entries()) {
    if (version === undefined) continue;
    const opening = openVersion(engine, store, name, version);
    // Awaited in order below; one that fails while another's error is thrown must not be an unhandled rejection (which ends the process).
    opening.catch(() => undefined);
    versions.set(index, opening);
  }
  try {
    // Downloads and documents in parallel.
    const found = await Promise.all(
      requests.map(({ name, version }) => (version === undefined ? Promise.all([store.getFile(dataKey(name)), readMetadataDocument(store, name)]) : undefined)),
    );
    const missing = requests.filter((request, index) => request.version === undefined && found[index]![0] === undefined).map(({ name }) => name);
    if (missing.length > 0) throw new FeatureNotBuiltError(missing, store.location);
    // Every current file's footer in one query. A document whose build id its file's footer repeats
    // describes that file (rows, schema), so nothing else is read from it; any other file (a stale
    // document, no footer, not Parquet) is read in full below, which also reports what is wrong with it.
    const current = found.flatMap((entry, index) => (entry === undefined ? [] : [{ index, path: entry[0]! }]));
    const footers = new Map<number, FeatureFooter | undefined>();
    if (current.length > 0) {
      const read = await readFooters(engine, current.map(({ path }) => path)).catch(() => undefined);
      for (const [position, { index }] of current.entries()) footers.set(index, read?.[position]);
    }
    const opened: StoredFeature[] = [];
    for (const [index, { name }] of requests.entries()) {
      const version = versions.get(index);
      if (version !== undefined) {
        opened.push(await version);
        continue;
      }
      const [path, document] = found[index]!;
      const footer = footers.get(index);
      if (footerMatches(footer, document, name)) {
        opened.push({ name, path: path!, metadata: document });
        continue;
      }
      const file = await readFeatureFile(engine, store, name, path!);
      opened.push({ name, path: path!, metadata: metadataOfStoredFile(document, file) });
    }
    return opened;
  } finally {
    // When one fails, the others must not outlive this call: the caller closes the engine they
    // query next, and their rejection would be unhandled (the process ends).
    await Promise.allSettled(versions.values());
  }
}

/** Opens the stored feature `name` (see `openStoredFeatures`), or undefined when it was never built. */
export async function openStoredFeature(engine: Engine, store: OfflineStore, name: string): Promise<StoredFeature | undefined> {
  const [path, document] = await Promise.all([store.getFile(dataKey(name)), readMetadataDocument(store, name)]);
  if (path === undefined) return undefined;
  const file = await readFeatureFile(engine, store, name, path);
  return { name, path, metadata: metadataOfStoredFile(document, file) };
}

/**
 * Opens build `buildId` of feature `name`: its kept version under `_versions/`, or the current data
 * when that is the build asked for (versions off, or kept from before versions existed). Throws
 * `FeatureVersionNotFoundError` listing the kept versions when the store has neither.
 */
export async function openVersion(engine: Engine, store: OfflineStore, name: string, buildId: string): Promise<StoredFeature> {
  if (!isBuildId(buildId)) throw new FeatureVersionNotFoundError(name, String(buildId), await keptVersionIds(store, name), store.location);
  const [path, document] = await Promise.all([store.getFile(versionDataKey(name, buildId)), store.getText(versionMetadataKey(name, buildId)).then(checkMetadata)]);
  if (path !== undefined) {
    const file = await readFeatureFile(engine, store, name, path);
    if (file.footer === undefined || file.footer.buildId === buildId) return { name, path, metadata: metadataOfStoredFile(document?.metadata, file) };
  }
  const current = await openStoredFeature(engine, store, name);
  if (current?.metadata?.buildId === buildId) return current;
  throw new FeatureVersionNotFoundError(name, buildId, await keptVersionIds(store, name), store.location);
}

/** Build ids of the kept versions of feature `name` (those with a metadata document), newest first. */
export async function keptVersionIds(store: OfflineStore, name: string): Promise<string[]> {
  return versionIdsOf(name, await store.list(versionsPrefix(name))).reverse();
}

/**
 * The metadata of stored feature `name`, checked against its data file, or undefined when it has
 * no data. The document alone answers when the store's version token of the data object is the one
 * the document recorded; otherwise the data file's footer is read (for a remote store, downloaded).
 */
export async function describeStoredFeature(engine: Engine, store: OfflineStore, name: string): Promise<FeatureMetadata | undefined> {
  const [head, document] = await Promise.all([store.head(dataKey(name)), readMetadataDocument(store, name)]);
  if (head === undefined) return undefined;
  if (document !== undefined && head.etag !== undefined && document.dataEtag === head.etag) return document;
  if (document !== undefined && store.capabilities.servesFilesInPlace === false && head.etag === undefined) return document;
  const path = await store.getFile(dataKey(name));
  if (path === undefined) return undefined;
  const file = await readFeatureFile(engine, store, name, path);
  return metadataOfStoredFile(document, file);
}
