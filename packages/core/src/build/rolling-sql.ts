import { AS_OF_COLUMN, type RollingAggregation, type RollingSpec } from "../rolling";
import { asSubquery, quoteIdentifier } from "../sql";

/** Per-bucket partial aggregates a column needs, by the aggregations asked of it. */
type Partial = "n" | "s" | "min" | "max" | "q";

const PARTIALS: Record<Exclude<RollingAggregation, "count_distinct">, readonly Partial[]> = {
  count: ["n"],
  sum: ["s"],
  mean: ["n", "s"],
  min: ["min"],
  max: ["max"],
  stddev: ["n", "s", "q"],
};

function partialSql(partial: Partial, column: string): string {
  switch (partial) {
    case "n":
      return `count(${column})`;
    case "s":
      return `sum(${column})`;
    case "min":
      return `min(${column})`;
    case "max":
      return `max(${column})`;
    case "q":
      return `sum(${column}::DOUBLE * ${column}::DOUBLE)`;
  }
}

/**
 * Compiles a rolling feature: DuckDB SQL over the transform's query `transformSql` whose rows are
 * one per key at every interval boundary `T` (as `as_of`) where an event of the key enters or
 * leaves a window, each window aggregating the events with `T - window <= event_time < T`.
 *
 * Events are first reduced to one row per key and bucket (`floor(epoch_us / interval)`, so
 * boundaries are UTC whatever the session time zone; `epoch_us` of a TIMESTAMPTZ is its instant);
 * the row stamped at bucket `k` covers buckets `k - m … k - 1` for a window of `m` intervals, so
 * it is a RANGE frame over the bucket number. Rows are wanted at `b + 1` (an event enters) and at
 * `b + m + 1` (it leaves) for each non-empty bucket `b`: these "probe" rows are added to the
 * buckets, framed with them, and kept. `count_distinct` cannot be merged from partials: it frames
 * the distinct (key, bucket, value) rows instead.
 */
export function compileRolling(spec: RollingSpec, keys: readonly string[], transformSql: string): string {
  const intervalUs = BigInt(spec.interval.milliseconds) * 1000n;
  const spans = spec.windows.map((window) => BigInt(window.milliseconds / spec.interval.milliseconds));
  const keyList = keys.map(quoteIdentifier).join(", ");
  const bucket = quoteIdentifier("mlforge_bucket");
  const probe = quoteIdentifier("mlforge_probe");
  const micros = `epoch_us(${quoteIdentifier(spec.eventTime)})`;
  // Floor division: DuckDB's `//` truncates toward zero, which would misplace events before 1970.
  const bucketSql = `(${micros} - ((${micros} % ${intervalUs}) + ${intervalUs}) % ${intervalUs}) // ${intervalUs}`;
  const columns = Object.entries(spec.aggregations);
  const columnRef = (index: number) => quoteIdentifier(`mlforge_c${index}`);
  const partialName = (index: number, partial: Partial) => quoteIdentifier(`mlforge_c${index}_${partial}`);
  const frameName = (index: number, partial: Partial, window: number) => quoteIdentifier(`mlforge_c${index}_${partial}_w${window}`);
  const distinctName = (index: number, window: number) => quoteIdentifier(`mlforge_c${index}_distinct_w${window}`);
  const windowName = (window: number) => `mlforge_w${window}`;
  const windowClause = spans
    .map((span, index) => `${windowName(index)} AS (PARTITION BY ${keyList} ORDER BY ${bucket} RANGE BETWEEN ${span} PRECEDING AND 1 PRECEDING)`)
    .join(", ");

  const partials = columns.map(([, aggregations]) => {
    const needed = new Set<Partial>();
    for (const aggregation of aggregations) if (aggregation !== "count_distinct") for (const partial of PARTIALS[aggregation]) needed.add(partial);
    return [...needed];
  });
  const partialColumns = partials.flatMap((needed, index) => needed.map((partial) => ({ index, partial })));
  const distinctColumns = columns.flatMap(([, aggregations], index) => (aggregations.includes("count_distinct") ? [index] : []));

  const ctes: string[] = [];
  ctes.push(
    `mlforge_events AS (SELECT ${keyList}, ${bucketSql} AS ${bucket}${columns.map(([column], index) => `, ${quoteIdentifier(column)} AS ${columnRef(index)}`).join("")} ` +
      `FROM ${asSubquery(transformSql)} WHERE ${quoteIdentifier(spec.eventTime)} IS NOT NULL)`,
  );
  ctes.push(
    `mlforge_buckets AS (SELECT ${keyList}, ${bucket}${partialColumns.map(({ index, partial }) => `, ${partialSql(partial, columnRef(index))} AS ${partialName(index, partial)}`).join("")} ` +
      `FROM mlforge_events GROUP BY ${keyList}, ${bucket})`,
  );
  const offsets = [...new Set([1n, ...spans.map((span) => span + 1n)])].join(", ");
  ctes.push(`mlforge_probes AS (SELECT DISTINCT ${keyList}, ${bucket} + unnest([${offsets}]) AS ${bucket} FROM mlforge_buckets)`);
  const frames = partialColumns.flatMap(({ index, partial }) =>
    spans.map((_, window) => `, ${partial === "n" || partial === "s" || partial === "q" ? "sum" : partial}(${partialName(index, partial)}) OVER ${windowName(window)} AS ${frameName(index, partial, window)}`),
  );
  ctes.push(
    `mlforge_rolled AS (SELECT ${keyList}, ${bucket}, ${probe}${frames.join("")} FROM (` +
      `SELECT *, false AS ${probe} FROM mlforge_buckets UNION ALL BY NAME SELECT *, true AS ${probe} FROM mlforge_probes) ` +
      `WINDOW ${windowClause} QUALIFY ${probe})`,
  );
  for (const index of distinctColumns) {
    ctes.push(
      `mlforge_distinct_${index} AS (SELECT ${keyList}, ${bucket}${spans.map((_, window) => `, count(DISTINCT ${columnRef(index)}) OVER ${windowName(window)} AS ${distinctName(index, window)}`).join("")} FROM (` +
        `SELECT DISTINCT ${keyList}, ${bucket}, ${columnRef(index)}, false AS ${probe} FROM mlforge_events WHERE ${columnRef(index)} IS NOT NULL ` +
        `UNION ALL BY NAME SELECT *, true AS ${probe} FROM mlforge_probes) WINDOW ${windowClause} QUALIFY ${probe})`,
    );
  }

  const outputs = columns.flatMap(([column, aggregations], index) =>
    aggregations.flatMap((aggregation) =>
      spec.windows.map((window, windowIndex) => {
        const frame = (partial: Partial) => `r.${frameName(index, partial, windowIndex)}`;
        const count = `coalesce(${frame("n")}, 0)`;
        let expression: string;
        switch (aggregation) {
          case "count":
            expression = `${count}::BIGINT`;
            break;
          case "sum":
            expression = frame("s");
            break;
          case "mean":
            expression = `CASE WHEN ${count} > 0 THEN ${frame("s")}::DOUBLE / ${count} END`;
            break;
          case "min":
          case "max":
            expression = frame(aggregation);
            break;
          case "stddev":
            // Sample variance from count, sum and sum of squares; rounding can take it a hair below 0.
            expression = `CASE WHEN ${count} > 1 THEN sqrt(greatest((${frame("q")} - ${frame("s")}::DOUBLE * ${frame("s")}::DOUBLE / ${count}) / (${count} - 1), 0)) END`;
            break;
          case "count_distinct":
            expression = `coalesce(d${index}.${distinctName(index, windowIndex)}, 0)::BIGINT`;
            break;
        }
        return `${expression} AS ${quoteIdentifier(`${column}_${aggregation}_${window.label}`)}`;
      }),
    ),
  );
  const joins = distinctColumns
    .map((index) => ` JOIN mlforge_distinct_${index} AS d${index} ON ${[...keys.map(quoteIdentifier), bucket].map((column) => `r.${column} IS NOT DISTINCT FROM d${index}.${column}`).join(" AND ")}`)
    .join("");
  return (
    `WITH ${ctes.join(",\n")}\n` +
    `SELECT ${keys.map((key) => `r.${quoteIdentifier(key)}`).join(", ")}, make_timestamp(r.${bucket} * ${intervalUs}) AS ${quoteIdentifier(AS_OF_COLUMN)}, ${outputs.join(", ")} FROM mlforge_rolled AS r${joins}`
  );
}
