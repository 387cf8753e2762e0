import { parseDuration, type Duration } from "./duration";
import { FeatureDefinitionError } from "./errors";
import { checkOptions } from "./options";

/** The aggregations a rolling window computes; nulls are ignored as SQL aggregates ignore them. */
export const ROLLING_AGGREGATIONS = ["count", "sum", "mean", "min", "max", "stddev", "count_distinct"] as const;

/** One rolling aggregation: `stddev` is the sample standard deviation, `count_distinct` is exact. */
export type RollingAggregation = (typeof ROLLING_AGGREGATIONS)[number];

/** Options of `feature({ rolling })`: time-window aggregations over the transform's events. */
export interface RollingOptions {
  /** Rows are stamped at multiples of this since 1970-01-01T00:00Z, such as "1d" or "1h". */
  interval: Duration;
  /** Window lengths, each a whole multiple of `interval`, such as ["7d", "30d"]. */
  windows: readonly Duration[];
  /** The aggregations of each column of the transform's output, such as { amount: ["sum", "mean"] }. */
  aggregations: Readonly<Record<string, readonly RollingAggregation[]>>;
}

/** One window of a `RollingSpec`. */
export interface RollingWindow {
  /** As written ("7d"), used in column names. */
  label: string;
  milliseconds: number;
}

/** A validated rolling specification, as a `Feature` holds it. */
export interface RollingSpec {
  /** The events' time column in the transform's output (the feature's `timestamp` option). */
  eventTime: string;
  interval: { label: string; milliseconds: number };
  windows: readonly RollingWindow[];
  aggregations: Readonly<Record<string, readonly RollingAggregation[]>>;
}

/** The column of a rolling feature's output holding each row's bucket boundary. */
export const AS_OF_COLUMN = "as_of";

const ROLLING_OPTIONS = { interval: "any", windows: "any", aggregations: "object" } as const;

function label(value: Duration): string {
  return typeof value === "number" ? `${value}ms` : value.trim();
}

/** Validates `rolling` of feature `name`; throws `FeatureDefinitionError` naming the problem. */
export function parseRolling(name: string, rolling: RollingOptions, keys: readonly string[], timestamp: string | undefined): RollingSpec {
  const owner = `Feature '${name}' option 'rolling'`;
  checkOptions(owner, rolling, ROLLING_OPTIONS, { errorClass: FeatureDefinitionError });
  if (timestamp === undefined) {
    throw new FeatureDefinitionError(`Feature '${name}' has rolling windows but no timestamp. Add timestamp: "<the events' time column>", for example timestamp: "event_time".`);
  }
  const interval = parseDuration(rolling.interval, `${owner} 'interval'`);
  if (!Array.isArray(rolling.windows) || rolling.windows.length === 0) {
    throw new FeatureDefinitionError(`${owner} has no windows. Pass at least one, for example windows: ["7d", "30d"].`);
  }
  const windows = rolling.windows.map((window): RollingWindow => {
    const milliseconds = parseDuration(window, `${owner} window`);
    if (milliseconds % interval !== 0) {
      throw new FeatureDefinitionError(`${owner} has window ${JSON.stringify(window)}, which is not a whole multiple of the interval ${JSON.stringify(rolling.interval)}. Use a window of n × interval.`);
    }
    return { label: label(window), milliseconds };
  });
  const labels = windows.map((window) => window.label);
  const repeated = labels.find((item, index) => labels.indexOf(item) !== index);
  if (repeated !== undefined) throw new FeatureDefinitionError(`${owner} lists window '${repeated}' twice. List each window once.`);
  const entries = Object.entries(rolling.aggregations ?? {});
  if (entries.length === 0) {
    throw new FeatureDefinitionError(`${owner} has no aggregations. Pass at least one, for example aggregations: { amount: ["sum", "count"] }.`);
  }
  for (const [column, aggregations] of entries) {
    if (column === timestamp || keys.includes(column)) {
      throw new FeatureDefinitionError(`${owner} aggregates '${column}', which is ${column === timestamp ? "the timestamp" : "a key"}. Aggregate other columns of the transform's output.`);
    }
    if (!Array.isArray(aggregations) || aggregations.length === 0) {
      throw new FeatureDefinitionError(`${owner} has no aggregations for '${column}'. Pass a list, for example ${column}: ["sum", "count"].`);
    }
    for (const aggregation of aggregations) {
      if (!(ROLLING_AGGREGATIONS as readonly unknown[]).includes(aggregation)) {
        throw new FeatureDefinitionError(`${owner} has unknown aggregation ${JSON.stringify(aggregation)} for '${column}'. Known aggregations: ${ROLLING_AGGREGATIONS.join(", ")}.`);
      }
    }
    const twice = aggregations.find((item, index) => aggregations.indexOf(item) !== index);
    if (twice !== undefined) throw new FeatureDefinitionError(`${owner} lists aggregation '${twice}' for '${column}' twice. List each once.`);
  }
  const spec: RollingSpec = {
    eventTime: timestamp,
    interval: { label: label(rolling.interval), milliseconds: interval },
    windows: Object.freeze(windows),
    aggregations: Object.freeze(Object.fromEntries(entries.map(([column, aggregations]) => [column, Object.freeze([...aggregations])]))),
  };
  const outputs = rollingOutputColumns(spec);
  const clash = outputs.find((column) => keys.includes(column) || column === AS_OF_COLUMN);
  if (clash !== undefined || keys.includes(AS_OF_COLUMN)) {
    throw new FeatureDefinitionError(`Feature '${name}' has an output column '${clash ?? AS_OF_COLUMN}' twice (a key and a rolling column). Rename the key.`);
  }
  return Object.freeze(spec);
}

/** `<column>_<aggregation>_<window>` for every aggregation and window, in the output's order. */
export function rollingOutputColumns(spec: RollingSpec): string[] {
  return Object.entries(spec.aggregations).flatMap(([column, aggregations]) =>
    aggregations.flatMap((aggregation) => spec.windows.map((window) => `${column}_${aggregation}_${window.label}`)),
  );
}
