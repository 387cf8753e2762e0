import type { Engine } from "../engine";
import { FeatureBuildError } from "../errors";
import type { Feature } from "../feature";
import type { Session } from "../session";
import { resolveSource, sourceFormat, type ResolvedSource, type SourceFile, type SourceFormat } from "../source";
import { quoteIdentifier } from "../sql";
import { fingerprintOf } from "./fingerprint";
import { renderSql } from "./render-sql";
import { compileRolling } from "./rolling-sql";

/** What a build of one feature will run, decided before any data is read: its source, rendered SQL and fingerprint. */
export interface BuildPlan {
  source: ResolvedSource;
  /** The source's files or objects, with what identifies their content. */
  files: SourceFile[];
  format: SourceFormat;
  /** The relation name the SQL reads the source as. */
  relation: string;
  /** The transform's query, as rendered. */
  transformSql: string;
  /** The query whose rows are the feature: the transform's, or for a rolling feature its windows compiled over it. */
  sql: string;
  fingerprint: string;
}

/**
 * Resolves the feature's source (listing a remote one, downloading nothing), renders its
 * transform and fingerprints the result. Throws `FeatureBuildError` when the source holds no data.
 */
export async function planBuild(feature: Feature, session: Session, engine: Engine): Promise<BuildPlan> {
  const source = await resolveSource(engine, feature.name, feature.source, session.sources, session.baseDirectory);
  const files: SourceFile[] = source.files;
  // DuckDB would read an empty file as one column named column0 or json, and fail later with a
  // confusing binder error; an empty file among others is fine (it adds no rows).
  if (files.every((file) => file.size === 0)) {
    const list = files.map((file) => file.path).join(", ");
    throw new FeatureBuildError(
      feature.name,
      `its source '${feature.source}' holds no data: ${files.length === 1 ? "the file it names is" : "every file it matches is"} empty (0 bytes): ${list}. Write the data first, or point the source at files that hold it.`,
    );
  }
  const relation = quoteIdentifier(`${feature.name}_source`);
  const transformSql = await renderSql(feature, relation);
  const sql = feature.rolling === undefined ? transformSql : compileRolling(feature.rolling, feature.keys, transformSql);
  // A source without a known extension (an s3:// prefix) takes the format of its first object.
  const format = sourceFormat(feature.source) ?? sourceFormat(files[0]?.path ?? "") ?? "parquet";
  return { source, files, format, relation, transformSql, sql, fingerprint: fingerprintOf(feature, sql, files) };
}
