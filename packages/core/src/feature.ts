import { parseChecks, type Check } from "./checks";
import { parseDuration, type Duration } from "./duration";
import { FeatureDefinitionError } from "./errors";
import { checkOptions } from "./options";
import { AS_OF_COLUMN, parseRolling, rollingOutputColumns, type RollingOptions, type RollingSpec } from "./rolling";
import { sourceFormat } from "./source";
import { sourceScheme } from "./source-provider";

const marker = Symbol.for("mlforge.feature");

/** The pattern every feature name matches: it becomes a file name and a SQL identifier. */
export const FEATURE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Turns the source relation's name into one DuckDB SQL query (rows stay inside DuckDB). */
export type FeatureTransform = (source: string) => string | Promise<string>;

/** Options of `feature()`. */
export interface FeatureOptions {
  /** Feature name; taken from a named transform function when omitted. */
  name?: string;
  /** Entity key columns of the output; one row per key (per key and timestamp). */
  keys: readonly string[];
  /** A file path (relative to `process.cwd()`), a glob, or an `s3://` URI: `.parquet`, `.csv`, `.json`, `.ndjson`. */
  source: string;
  /** Event-time column of the output; training data joins the feature as of each entity row's time. */
  timestamp?: string;
  /** What the feature means, for people. */
  description?: string;
  /** Labels to select features by (`build({ tags })`). @default [] */
  tags?: readonly string[];
  /** Online reads serve null for a row whose `timestamp` is older than this ("7d", "12h", or milliseconds); needs a `timestamp`. @default no limit */
  onlineTtl?: Duration;
  /** Time-window aggregations of the transform's events (see `RollingOptions`); the output is then the keys, `as_of` and `<column>_<aggregation>_<window>` columns. @default none */
  rolling?: RollingOptions;
  /** Data checks by output column, such as { age: [notNull(), between(13, 120)] }, run in the build's validation pass. @default none */
  checks?: Readonly<Record<string, readonly Check[]>>;
}

/** A validated feature definition, as returned by `feature()`. */
export interface Feature {
  readonly name: string;
  readonly keys: readonly string[];
  readonly source: string;
  readonly timestamp: string | undefined;
  readonly description: string | undefined;
  readonly tags: readonly string[];
  readonly transform: FeatureTransform;
  /** `onlineTtl` in milliseconds; undefined when online rows never expire. */
  readonly onlineTtl?: number;
  /** The rolling specification; `timestamp` is then `as_of` and `rolling.eventTime` the events' time column. */
  readonly rolling?: RollingSpec;
  /** Checks by output column. */
  readonly checks?: Readonly<Record<string, readonly Check[]>>;
}

/**
 * The longest feature name: stores name files after it, with room to spare inside a file system's
 * 255 bytes per file name (LocalStore's `.<name>.<pid>.<12 hex>.parquet.tmp`, S3Store's staged
 * `mlforge-s3-<name>-<pid>-<12 hex>.parquet` and its cache's `<16 hex>-<etag>-<name>.parquet.<pid>.<12 hex>.tmp`).
 */
export const MAX_FEATURE_NAME_LENGTH = 128;

/** Throws `FeatureDefinitionError` unless `name` can be a feature name. */
export function assertFeatureName(name: string): void {
  if (name.length > MAX_FEATURE_NAME_LENGTH) {
    throw new FeatureDefinitionError(
      `Feature name '${name.slice(0, 40)}…' is ${name.length} characters long; the limit is ${MAX_FEATURE_NAME_LENGTH}, so that the files stores name after it fit a file system's 255-byte file names. Use a shorter name.`,
    );
  }
  if (!FEATURE_NAME_PATTERN.test(name)) {
    throw new FeatureDefinitionError(
      `Feature name '${name}' is invalid. Use letters, digits and underscores, starting with a letter or underscore (for example 'user_total_spend').`,
    );
  }
}

function assertColumnList(name: string, label: string, columns: unknown): asserts columns is readonly string[] {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new FeatureDefinitionError(`Feature '${name}' has no ${label}. Pass at least one column, for example ${label}: ["user_id"].`);
  }
  for (const column of columns) {
    if (typeof column !== "string" || column.trim() === "") {
      throw new FeatureDefinitionError(`Feature '${name}' has an invalid entry in ${label}: ${JSON.stringify(column)}. Use column names (non-empty strings).`);
    }
  }
  const repeated = columns.find((column, index) => columns.indexOf(column) !== index);
  if (repeated !== undefined) {
    throw new FeatureDefinitionError(`Feature '${name}' lists ${label} column '${repeated}' twice. List each column once.`);
  }
}

const FEATURE_OPTIONS = { name: "any", keys: "any", source: "any", timestamp: "any", description: "any", tags: "any", onlineTtl: "any", rolling: "object", checks: "any" } as const;

/**
 * Defines a feature: DuckDB SQL over a source file, built into the offline store by `Definitions`.
 * Validates synchronously and throws `FeatureDefinitionError` on a bad definition.
 */
export function feature(options: FeatureOptions, transform: FeatureTransform): Feature {
  if (typeof options !== "object" || options === null) {
    throw new FeatureDefinitionError("feature() takes an options object first, for example feature({ keys: [\"user_id\"], source: \"data.parquet\" }, transform).");
  }
  const name = options.name ?? (typeof transform === "function" && transform.name !== "" ? transform.name : undefined);
  if (name === undefined || name === "") {
    throw new FeatureDefinitionError("Feature has no name. Pass `name` in the options or use a named function as the transform.");
  }
  assertFeatureName(name);
  checkOptions(`Feature '${name}'`, options, FEATURE_OPTIONS);
  if (typeof transform !== "function") {
    throw new FeatureDefinitionError(`Feature '${name}' has no transform. Pass a function that returns a SQL query as the second argument of feature().`);
  }
  assertColumnList(name, "keys", options.keys);
  if (typeof options.source !== "string" || options.source.trim() === "") {
    throw new FeatureDefinitionError(`Feature '${name}' has no source. Pass a file path, a glob or an s3:// URI, for example source: "data/transactions.parquet".`);
  }
  // A URI prefix ("s3://bucket/events/") names objects whose format is known once they are listed.
  const isPrefix = sourceScheme(options.source) !== undefined && options.source.endsWith("/");
  if (!isPrefix && sourceFormat(options.source) === undefined) {
    throw new FeatureDefinitionError(
      `Feature '${name}' has source '${options.source}' of an unknown format. Use a .parquet, .csv, .json or .ndjson file (optionally .gz), or a URI prefix ending in '/'.`,
    );
  }
  if (options.timestamp !== undefined) {
    if (typeof options.timestamp !== "string" || options.timestamp.trim() === "") {
      throw new FeatureDefinitionError(`Feature '${name}' has an invalid timestamp. Pass the name of an output column, for example timestamp: "day".`);
    }
    if (options.keys.includes(options.timestamp)) {
      throw new FeatureDefinitionError(`Feature '${name}' uses '${options.timestamp}' both as a key and as the timestamp. Use a separate event-time column.`);
    }
  }
  const tags = options.tags ?? [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== "string" || tag === "")) {
    throw new FeatureDefinitionError(`Feature '${name}' has invalid tags. Pass an array of non-empty strings.`);
  }
  let onlineTtl: number | undefined;
  if (options.onlineTtl !== undefined) {
    onlineTtl = parseDuration(options.onlineTtl, `Feature '${name}' option 'onlineTtl'`);
    if (options.timestamp === undefined) {
      throw new FeatureDefinitionError(`Feature '${name}' has an onlineTtl but no timestamp: the TTL is measured from each row's event time. Add timestamp: "<event-time column>" or remove onlineTtl.`);
    }
  }
  const rolling = options.rolling === undefined ? undefined : parseRolling(name, options.rolling, options.keys, options.timestamp);
  const checks = options.checks === undefined ? undefined : parseChecks(name, options.checks);
  if (rolling !== undefined && checks !== undefined) {
    // A rolling feature's output columns are known now; others' once the build describes the transform.
    const outputs = [...options.keys, AS_OF_COLUMN, ...rollingOutputColumns(rolling)];
    const missing = Object.keys(checks).find((column) => !outputs.includes(column));
    if (missing !== undefined) {
      throw new FeatureDefinitionError(`Feature '${name}' has checks on '${missing}', which its output lacks. Output columns: ${outputs.join(", ")}.`);
    }
  }
  const definition: Feature = {
    name,
    keys: Object.freeze([...options.keys]),
    source: options.source,
    timestamp: rolling === undefined ? options.timestamp : AS_OF_COLUMN,
    description: options.description,
    tags: Object.freeze([...tags]),
    transform,
    ...(onlineTtl === undefined ? {} : { onlineTtl }),
    ...(rolling === undefined ? {} : { rolling }),
    ...(checks === undefined ? {} : { checks }),
  };
  Object.defineProperty(definition, marker, { value: true });
  return Object.freeze(definition);
}

/** True for a value returned by `feature()` (from any copy of `@mlforge/core`). */
export function isFeature(value: unknown): value is Feature {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}
