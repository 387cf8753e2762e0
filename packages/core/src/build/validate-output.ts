import type { Engine } from "../engine";
import type { Check, CheckResult } from "../checks";
import { FeatureBuildError, FeatureCheckError } from "../errors";
import type { Feature } from "../feature";
import type { KeyStats } from "../feature-metadata";
import { quoteIdentifier, quoteLiteral } from "../sql";
import { quotePath } from "../literal-path";
import { timeRangeSql } from "../time-range";

/** An aggregate computed over a feature's output in the validation pass: a name and one DuckDB aggregate expression over the output's columns. */
export interface OutputAggregate {
  name: string;
  /** Such as `count(*) FILTER (WHERE total_spend < 0)` or `max(total_spend)`. */
  sql: string;
}

/** What validation found in a valid output: its row count, and the value of each aggregate asked for, by name. */
export interface OutputSummary {
  rows: number;
  /** For a feature with a timestamp: how its rows spread over its keys. */
  keyStats?: KeyStats;
  aggregates: Record<string, unknown>;
  /** The result of every check of the feature, in definition order. */
  checks: CheckResult[];
}

/** How many failing rows a `FeatureCheckError` shows per check. */
const CHECK_EXAMPLES = 5;

/** The predicate of the rows `unique()` fails on `column`: their value occurs in more than one row. */
function uniqueFailing(table: string, column: string): string {
  const quoted = quoteIdentifier(column);
  return `${quoted} IN (SELECT ${quoted} FROM ${table} WHERE ${quoted} IS NOT NULL GROUP BY ${quoted} HAVING count(*) > 1)`;
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
 * A rolling feature's rows are one per key and `as_of` by construction (each is one of the
 * DISTINCT probes its compiled SQL frames), so its distinct count, the costliest part of the pass
 * (a hash table of every row), is not taken. For a feature with a timestamp, the same query counts
 * its rows per key and the range of its times (`KeyStats`, a hash table of its keys only), which
 * training data chooses its join plan from.
 * The `aggregates` are computed in the same pass (one scan of the file) and returned by name, and
 * so are the feature's checks: a count of failing rows each (`unique()` first compares distinct
 * and non-null counts, and counts its rows exactly only when they differ). Throws
 * `FeatureCheckError` when an error-severity check fails.
 */
export async function validateOutput(
  engine: Engine,
  feature: Feature,
  file: string,
  aggregates: readonly OutputAggregate[] = [],
  /** The DuckDB type of the feature's timestamp column in the file. @default unknown: times are cast one by one */
  timestampType?: string,
): Promise<OutputSummary> {
  const table = `read_parquet(${quotePath(file)})`;
  const identity = [...feature.keys, ...(feature.timestamp === undefined ? [] : [feature.timestamp])];
  const columns = identity.map(quoteIdentifier).join(", ");
  const anyNull = identity.map((column) => `${quoteIdentifier(column)} IS NULL`).join(" OR ");
  // Positional aliases, so that no aggregate's name can collide with the pass's own columns.
  const checks = Object.entries(feature.checks ?? {}).flatMap(([column, list]) => list.map((check) => ({ column, check })));
  const checkSql = checks
    .map(({ column, check }, index) => {
      const quoted = quoteIdentifier(column);
      const value = check.kind === "unique" ? `count(${quoted}) - count(DISTINCT ${quoted})` : `count(*) FILTER (WHERE ${check.failing(quoted)})`;
      return `, (${value})::BIGINT AS ${quoteIdentifier(`mlforge_check_${index}`)}`;
    })
    .join("");
  const extra = checkSql + aggregates.map((aggregate, index) => `, (${aggregate.sql}) AS ${quoteIdentifier(`mlforge_aggregate_${index}`)}`).join("");
  const distinct = feature.rolling === undefined ? `count(DISTINCT hash(${columns}))` : "count(*)";
  // The time range (see timeRangeSql) in the same pass, which reads the timestamp column anyway.
  const range = feature.timestamp === undefined ? "" : `, ${timeRangeSql(quoteIdentifier(feature.timestamp), timestampType ?? "VARCHAR")}`;
  let sql = `SELECT count(*)::BIGINT AS row_count, ${distinct}::BIGINT AS distinct_count, count(*) FILTER (WHERE ${anyNull})::BIGINT AS null_count${range}${extra} FROM ${table}`;
  if (feature.timestamp !== undefined) {
    const keys = feature.keys.map(quoteIdentifier).join(", ");
    sql =
      `SELECT * FROM (${sql}) CROSS JOIN (SELECT count(*)::BIGINT AS mlforge_keys, coalesce(max(key_rows), 0)::BIGINT AS mlforge_max_rows, ` +
      `coalesce(sum(key_rows::DOUBLE * key_rows), 0) AS mlforge_squares FROM (SELECT count(*) AS key_rows FROM ${table} GROUP BY ${keys}))`;
  }
  const [summary] = await engine.rows(sql);
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
  const results: CheckResult[] = [];
  for (const [index, { column, check }] of checks.entries()) {
    let failingRows = Number(summary?.[`mlforge_check_${index}`] ?? 0);
    if (check.kind === "unique" && failingRows > 0) {
      const [counted] = await engine.rows(`SELECT count(*)::BIGINT AS failing FROM ${table} WHERE ${uniqueFailing(table, column)}`);
      failingRows = Number(counted?.failing ?? 0);
    }
    results.push({ column, check: check.description, severity: check.severity, passed: failingRows === 0, failingRows, rows });
  }
  const errors = checks.filter((_, index) => !results[index]!.passed && results[index]!.severity === "error");
  if (errors.length > 0) {
    const lines: string[] = [];
    for (const { column, check } of errors) {
      const result = results.find((item) => item.column === column && item.check === check.description)!;
      const shown = [...new Set([...identity, column])];
      const where = check.kind === "unique" ? uniqueFailing(table, column) : check.failing(quoteIdentifier(column));
      const examples = await engine.rows(`SELECT ${shown.map(quoteIdentifier).join(", ")} FROM ${table} WHERE ${where} LIMIT ${CHECK_EXAMPLES}`);
      lines.push(
        `column '${column}' ${check.description}: ${result.failingRows} of ${rows} rows failed, for example ` +
          examples.map((row) => `(${shown.map((name) => `${name}=${describe(row[name])}`).join(", ")})`).join(", "),
      );
    }
    throw new FeatureCheckError(
      feature.name,
      `${errors.length === 1 ? "a check" : `${errors.length} checks`} failed, so nothing was published (the previous version stays):\n${lines.map((line) => `  - ${line}`).join("\n")}\nFix the data or the transform, or give the check severity: "warn" to publish anyway.`,
      results,
    );
  }
  const time = (value: unknown) => (value === null || value === undefined ? undefined : new Date(Number(value)).toISOString());
  const [firstTime, lastTime] = [time(summary?.first_time), time(summary?.last_time)];
  const keyStats: KeyStats | undefined =
    feature.timestamp === undefined
      ? undefined
      : {
          keys: Number(summary?.mlforge_keys ?? 0),
          maxRowsPerKey: Number(summary?.mlforge_max_rows ?? 0),
          rowWeightedRowsPerKey: rows === 0 ? 0 : Number(summary?.mlforge_squares ?? 0) / rows,
          ...(firstTime === undefined || lastTime === undefined ? {} : { firstTime, lastTime }),
        };
  return {
    rows,
    ...(keyStats === undefined ? {} : { keyStats }),
    checks: results,
    aggregates: Object.fromEntries(aggregates.map((aggregate, index) => [aggregate.name, summary?.[`mlforge_aggregate_${index}`]])),
  };
}
