import { stat } from "node:fs/promises";
import type { Engine } from "./engine";
import { StoreAccessError } from "./errors";
import { FOOTER_KEY, metadataFromFooter, parseFooter, parseMetadata, type FeatureFooter, type FeatureMetadata, type StoredFileFacts } from "./feature-metadata";
import type { OfflineStore } from "./offline-store";
import { sourceScheme } from "./source-provider";
import { quoteLiteral } from "./sql";

/** A feature's data file as it is now: mlforge's footer document (undefined when it has none), columns, rows and size. */
export interface StoredFile extends StoredFileFacts {
  /** The local path it was read from. */
  path: string;
  footer: FeatureFooter | undefined;
}

/** mlforge's footer document of a Parquet file, or undefined when it has none. */
export async function readFooter(engine: Engine, path: string): Promise<FeatureFooter | undefined> {
  const sql = `SELECT decode(value) AS document FROM parquet_kv_metadata(${quoteLiteral(path)}) WHERE key = ${quoteLiteral(FOOTER_KEY)}::BLOB`;
  return parseFooter((await engine.rows(sql))[0]?.document as string | undefined);
}

/** Reads a Parquet file's footer document, row count, columns and size once; see `readStoredFile`. */
async function readOnce(engine: Engine, path: string): Promise<StoredFile> {
  const file = quoteLiteral(path);
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

/** The metadata that describes `file`: the document when it was written by the same build, else rebuilt from the file's footer. */
export function metadataOfStoredFile(document: FeatureMetadata | undefined, file: StoredFile): FeatureMetadata | undefined {
  // A file without mlforge's footer (written by an older version) is described by its document alone.
  if (file.footer === undefined) return document;
  if (document?.buildId === file.footer.buildId) return document;
  return metadataFromFooter(file.footer, file);
}

/**
 * The metadata document of feature `name`, or undefined when there is none, it cannot be parsed,
 * or the store may not read it. Write-only credentials (s3:PutObject and s3:ListBucket, no
 * s3:GetObject) may not read metadata: then nobody can tell whether the feature changed, and
 * rebuilding is always correct, while failing would make every build under such a policy fail.
 */
export async function readMetadataDocument(store: OfflineStore, name: string): Promise<FeatureMetadata | undefined> {
  try {
    return parseMetadata(await store.getMetadata(name));
  } catch (error) {
    // By marker: a store may bring its own copy of core (an ESM store loaded by CommonJS core).
    if (StoreAccessError.isInstance(error)) return undefined;
    throw error;
  }
}

/**
 * True for a store whose location is a local directory (LocalStore): its feature files are read in
 * place, so `getFeaturePath` costs a `stat` and core may look at the data whenever it helps. A
 * remote store's `getFeaturePath` may download the whole file, so core asks it only when it needs
 * the data anyway.
 */
export function servesFilesInPlace(store: OfflineStore): boolean {
  return sourceScheme(store.location) === undefined;
}
