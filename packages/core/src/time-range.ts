/**
 * `first_time, last_time`: the earliest and latest of `column` (of DuckDB type `type`) as
 * milliseconds since 1970, UTC. The extremes are taken first and only they are cast: a cast of
 * every TIMESTAMP to TIMESTAMPTZ costs about 150 ms per million rows. Strings are cast one by one
 * (ISO times with offsets do not sort as instants); one that is not a time is left out.
 */
export function timeRangeSql(column: string, type: string): string {
  const instant = (expression: string) => `epoch_ms(TRY_CAST(${expression} AS TIMESTAMP WITH TIME ZONE))`;
  if (type === "VARCHAR") return `${instant(`min(TRY_CAST(${column} AS TIMESTAMP WITH TIME ZONE))`)} AS first_time, ${instant(`max(TRY_CAST(${column} AS TIMESTAMP WITH TIME ZONE))`)} AS last_time`;
  return `${instant(`min(${column})`)} AS first_time, ${instant(`max(${column})`)} AS last_time`;
}
