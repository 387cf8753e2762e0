import { Engine, type EngineOptions } from "./engine";
import { FeatureNotBuiltError } from "./errors";
import { FeatureFrame } from "./feature-frame";
import type { OfflineStore } from "./offline-store";
import { quoteLiteral } from "./sql";
import { metadataOfStoredFile, readMetadataDocument, readStoredFile } from "./stored-feature";

/** Local Parquet paths of stored features, in order; throws `FeatureNotBuiltError` naming every one never built. */
export async function storedFeaturePaths(store: OfflineStore, names: readonly string[]): Promise<string[]> {
  const paths = await Promise.all(names.map((name) => store.getFeaturePath(name)));
  const missing = names.filter((_, index) => paths[index] === undefined);
  if (missing.length > 0) throw new FeatureNotBuiltError(missing, store.location);
  return paths as string[];
}

/**
 * The whole stored feature `name` as a frame, rows in stored order, with the metadata of the data
 * it reads (rebuilt from the file's footer when the document is stale); the caller has checked the store.
 */
export async function readFeature(store: OfflineStore, name: string, engineOptions: EngineOptions): Promise<FeatureFrame> {
  const [path] = await storedFeaturePaths(store, [name]);
  const engine = await Engine.open(engineOptions);
  try {
    const file = await readStoredFile(engine, path!);
    const metadata = metadataOfStoredFile(await readMetadataDocument(store, name), file);
    const sql = `SELECT * FROM read_parquet(${quoteLiteral(path!)})`;
    return new FeatureFrame({ sql, schema: file.schema, numRows: file.rows, engineOptions, metadata });
  } finally {
    engine.close();
  }
}
