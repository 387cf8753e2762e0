import { Engine } from "./engine";
import { FeatureFrame } from "./feature-frame";
import type { Session } from "./session";
import { quoteLiteral } from "./sql";
import { openStoredFeatures } from "./stored-feature";
import { quotePath } from "./literal-path";

/**
 * The whole stored feature `name` as a frame, rows in stored order, with the metadata of the data
 * it reads (rebuilt from the file's footer when the document is stale); the caller has checked the
 * store. With `version`, that kept build instead of the current data. Throws `FeatureNotBuiltError`
 * when it was never built, `FeatureVersionNotFoundError` when the version is not kept.
 */
export async function readFeature(session: Session, name: string, version?: string): Promise<FeatureFrame> {
  const { offlineStore: store, engineOptions } = session;
  const engine = await Engine.open(engineOptions);
  try {
    const [stored] = await openStoredFeatures(engine, store, [{ name, ...(version === undefined ? {} : { version }) }]);
    const { path, metadata } = stored!;
    const sql = `SELECT * FROM read_parquet(${quotePath(path)})`;
    const numRows = Number((await engine.rows(`SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata(${quotePath(path)})`))[0]?.n ?? 0);
    const schema = metadata?.schema ?? (await engine.columns(sql));
    return new FeatureFrame({ sql, schema, numRows, engineOptions, metadata });
  } finally {
    engine.close();
  }
}
