import { Engine, type EngineOptions } from "./engine";
import { FeatureNotBuiltError } from "./errors";
import { FeatureFrame } from "./feature-frame";
import type { OfflineStore } from "./offline-store";
import { quoteLiteral } from "./sql";

/** Local Parquet paths of stored features, in order; throws `FeatureNotBuiltError` naming every one never built. */
export async function storedFeaturePaths(store: OfflineStore, names: readonly string[]): Promise<string[]> {
  const paths = await Promise.all(names.map((name) => store.getFeaturePath(name)));
  const missing = names.filter((_, index) => paths[index] === undefined);
  if (missing.length > 0) throw new FeatureNotBuiltError(missing, store.location);
  return paths as string[];
}

/** The whole stored feature `name` as a frame, rows in stored order; the caller has checked the store. */
export async function readFeature(store: OfflineStore, name: string, engineOptions: EngineOptions): Promise<FeatureFrame> {
  const [file] = await storedFeaturePaths(store, [name]);
  const sql = `SELECT * FROM read_parquet(${quoteLiteral(file!)})`;
  const engine = await Engine.open(engineOptions);
  try {
    const schema = await engine.columns(sql);
    const [count] = await engine.rows(`SELECT count(*)::BIGINT AS n FROM read_parquet(${quoteLiteral(file!)})`);
    return new FeatureFrame({ sql, schema, numRows: Number(count?.n ?? 0), engineOptions });
  } finally {
    engine.close();
  }
}
