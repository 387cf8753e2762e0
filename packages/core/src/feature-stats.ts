import type { JS } from "@duckdb/node-api";
import type { Column, Engine } from "./engine";
import type { OfflineStore } from "./offline-store";
import { quoteIdentifier, quoteLiteral } from "./sql";
import { openStoredFeatures } from "./stored-feature";
import { toJavaScript } from "./value-decoder";

/** One bar of a numeric column's histogram: values in [lower, upper) (the last bar includes `upper`). */
export interface HistogramBin {
  lower: number;
  upper: number;
  count: number;
}

/** A frequent value of a non-numeric column and how many rows hold it. */
export interface TopValue {
  value: string;
  count: number;
}

/** What DuckDB computed over one column of a stored feature. */
export interface ColumnStats {
  name: string;
  /** DuckDB type. */
  type: string;
  nullCount: number;
  distinctCount: number;
  /** Smallest non-null value, as `FeatureFrame.rows()` gives values; null when every value is null. */
  min: JS;
  /** Largest non-null value; null when every value is null. */
  max: JS;
  /** Equal-width bars between min and max, for numeric columns. */
  histogram?: HistogramBin[];
  /** The most frequent values, most frequent first, for other columns. */
  topValues?: TopValue[];
}

/** Column statistics of a feature's current offline build. */
export interface FeatureStats {
  name: string;
  buildId: string;
  builtAt: string;
  rows: number;
  columns: ColumnStats[];
}

/** Options of `Definitions.stats()`. */
export interface FeatureStatsOptions {
  /** Bars of each numeric histogram. @default 20 */
  bins?: number;
  /** How many top values of each non-numeric column. @default 10 */
  topValues?: number;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/;

/** True for a DuckDB type whose values go into a histogram. */
export function isNumericType(type: string): boolean {
  return NUMERIC.test(type);
}

function count(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

async function histogram(engine: Engine, relation: string, column: Column, min: number, max: number, bins: number): Promise<HistogramBin[]> {
  const width = max > min ? (max - min) / bins : 1;
  const slots = max > min ? bins : 1;
  const name = quoteIdentifier(column.name);
  const rows = await engine.rows(
    `SELECT least(greatest(floor((${name}::DOUBLE - ${min}) / ${width}), 0), ${slots - 1})::INTEGER AS bin, count(*)::BIGINT AS n ` +
      `FROM ${relation} WHERE ${name} IS NOT NULL AND isfinite(${name}::DOUBLE) GROUP BY 1`,
  );
  const counts = new Array<number>(slots).fill(0);
  for (const row of rows) counts[Number(row.bin)] = count(row.n);
  return counts.map((n, index) => ({ lower: min + index * width, upper: index === slots - 1 ? Math.max(max, min) : min + (index + 1) * width, count: n }));
}

/**
 * Null count, distinct count, min and max of every column of the stored feature, plus a histogram
 * (numeric columns) or the top values (others), computed by DuckDB over the data file.
 * Throws `FeatureNotBuiltError` when the feature was never built.
 */
export async function featureStats(engine: Engine, store: OfflineStore, name: string, options: FeatureStatsOptions = {}): Promise<FeatureStats> {
  const bins = options.bins ?? 20;
  const top = options.topValues ?? 10;
  const [stored] = await openStoredFeatures(engine, store, [name]);
  const { path, metadata } = stored!;
  const relation = `read_parquet(${quoteLiteral(path)})`;
  const schema = metadata?.schema ?? (await engine.columns(`SELECT * FROM ${relation}`));
  const columns: ColumnStats[] = [];
  let rows = 0;
  for (const column of schema) {
    const quoted = quoteIdentifier(column.name);
    const [summary] = await engine.convertedRows(
      `SELECT count(*)::BIGINT AS total, (count(*) - count(${quoted}))::BIGINT AS nulls, count(DISTINCT ${quoted})::BIGINT AS distinct_values, ` +
        `min(${quoted}) AS min_value, max(${quoted}) AS max_value FROM ${relation}`,
      toJavaScript,
    );
    rows = count(summary?.total);
    const stats: ColumnStats = {
      name: column.name,
      type: column.type,
      nullCount: count(summary?.nulls),
      distinctCount: count(summary?.distinct_values),
      min: summary?.min_value ?? null,
      max: summary?.max_value ?? null,
    };
    if (isNumericType(column.type)) {
      const [range] = await engine.rows(`SELECT min(${quoted})::DOUBLE AS low, max(${quoted})::DOUBLE AS high FROM ${relation} WHERE isfinite(${quoted}::DOUBLE)`);
      const low = range?.low;
      const high = range?.high;
      stats.histogram = typeof low === "number" && typeof high === "number" ? await histogram(engine, relation, column, low, high, bins) : [];
    } else {
      const values = await engine.rows(
        `SELECT ${quoted}::VARCHAR AS value, count(*)::BIGINT AS n FROM ${relation} WHERE ${quoted} IS NOT NULL GROUP BY 1 ORDER BY n DESC, value LIMIT ${top}`,
      );
      stats.topValues = values.map((row) => ({ value: String(row.value), count: count(row.n) }));
    }
    columns.push(stats);
  }
  return { name, buildId: metadata?.buildId ?? "", builtAt: metadata?.builtAt ?? "", rows, columns };
}
