import { FeatureBuildError } from "../errors";
import { errorMessage } from "../errors/error-message";
import type { Feature } from "../feature";

/** Calls the feature's transform with the source's relation name; throws `FeatureBuildError` unless it gives a non-empty SQL string. */
export async function renderSql(feature: Feature, relation: string): Promise<string> {
  let sql: unknown;
  try {
    sql = await feature.transform(relation);
  } catch (error) {
    throw new FeatureBuildError(feature.name, `its transform threw: ${errorMessage(error)}`, { cause: error });
  }
  if (typeof sql !== "string" || sql.trim() === "") {
    throw new FeatureBuildError(
      feature.name,
      `its transform returned ${sql === "" ? "an empty string" : typeof sql} instead of a SQL query. Return a string such as \`SELECT … FROM \${source}\`.`,
    );
  }
  return sql;
}
