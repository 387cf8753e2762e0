import type { Engine } from "../engine";
import { FeatureBuildError } from "../errors";
import type { Feature } from "../feature";
import { quoteIdentifier, quoteLiteral } from "../sql";
import { quotePath } from "../literal-path";

/** An aggregate computed over a feature's output in the validation pass: a name and one DuckDB aggregate expression over the output's columns. */
export interface OutputAggregate {
  name: string;
  /** Such as `count(*) FILTER (WHERE total_spend < 0)` or `max(total_spend)`. */
  sql: string;
}

/** What validation found in a valid output: its row count, and the value of each aggregate asked for, by name. */
export interface OutputSummary {
  rows: number;
  aggregates: Record<string, unknown>;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (value instanceof Date) return value.toISOString();
  return typeof value === "string" ? `'${value}'` : String(value);
}

/**
 * Checks what retrieval relies on: one row per key (and timestamp), no null key or timestamp.
 * One pass over the staged file's key columns counts rows, nulls and distinct key hashes (a hash
 * of one 64-bit value aggregates faster than the key columns themselves); only when that pass
 * sees a problem does an exact query look for an example, so a hash collision cannot fail a build.
 * The `aggregates` are computed in the same pass (one scan of the file) and returned by name.
 */
export async function validateOutput(engine: Engine, feature: Feature, file: string, aggregates: readonly OutputAggregate[] = []): Promise<OutputSummary> {
  const table = `read_parquet(${quotePath(file)})`;
  const identity = [...feature.keys, ...(feature.timestamp === undefined ? [] : [feature.timestamp])];
  const columns = identity.map(quoteIdentifier).join(", ");
  const anyNull = identity.map((column) => `${quoteIdentifier(column)} IS NULL`).join(" OR ");
  // Positional aliases, so that no aggregate's name can collide with the pass's own columns.
  const extra = aggregates.map((aggregate, index) => `, (${aggregate.sql}) AS ${quoteIdentifier(`mlforge_aggregate_${index}`)}`).join("");
  const [summary] = await engine.rows(
    `SELECT count(*)::BIGINT AS row_count, count(DISTINCT hash(${columns}))::BIGINT AS distinct_count, count(*) FILTER (WHERE ${anyNull})::BIGINT AS null_count${extra} FROM ${table}`,
  );
  const rows = Number(summary?.row_count ?? 0);
  if (Number(summary?.null_count) > 0) {
    const [nullRow] = await engine.rows(`SELECT ${columns} FROM ${table} WHERE ${anyNull} LIMIT 1`);
    const column = identity.find((name) => nullRow?.[name] === null) ?? identity[0];
    throw new FeatureBuildError(
      feature.name,
      `its output has a row whose ${column === feature.timestamp ? "timestamp" : "key"} column '${column}' is NULL ` +
        `(${identity.map((name) => `${name}=${describe(nullRow?.[name])}`).join(", ")}). Filter such rows out in the transform (WHERE ${column} IS NOT NULL).`,
    );
  }
  if (Number(summary?.distinct_count) < rows) {
    const [duplicate] = await engine.rows(`SELECT ${columns}, count(*) AS mlforge_count FROM ${table} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`);
    if (duplicate !== undefined) {
      throw new FeatureBuildError(
        feature.name,
        `its output has ${String(duplicate.mlforge_count)} rows for ${identity.map((name) => `${name}=${describe(duplicate[name])}`).join(", ")}; ` +
          `it must have one row per ${identity.join(", ")} so that retrieval can pick one. Aggregate with GROUP BY ${identity.join(", ")}.`,
      );
    }
  }
  return { rows, aggregates: Object.fromEntries(aggregates.map((aggregate, index) => [aggregate.name, summary?.[`mlforge_aggregate_${index}`]])) };
}
