import path from "node:path";
import { Engine, type Column, type EngineOptions } from "./engine";
import { describeEntityFile, inferEntityColumns, writeEntityRows, type Entities, type EntityRelation } from "./entities";
import { FeatureNotFoundError, TrainingDataError } from "./errors";
import { errorMessage } from "./errors/error-message";
import type { Feature } from "./feature";
import { FeatureFrame } from "./feature-frame";
import type { KeyStats } from "./feature-metadata";
import type { OfflineStore } from "./offline-store";
import type { Session } from "./session";
import { openStoredFeatures, type FeatureRef, type StoredFeature } from "./stored-feature";
import { checkOptions } from "./options";
import { quoteIdentifier, quoteLiteral } from "./sql";
import { createTemporaryDirectory, removeTemporaryDirectory } from "./temporary-directory";
import { quotePath } from "./literal-path";
import { keyKind } from "./online/key-codec";
import { checkEntityRows, hashEntities, manifestEntities, readTrainingManifest, type TrainingManifest, type TrainingPlan } from "./training-manifest";

/** A feature of a training set: its name (the current build), or `{ name, version }` to join a kept build (a build id from `defs.versions(name)`). */
export type TrainingFeature = string | FeatureRef;

/** Options of `Definitions.getTrainingData()`. */
export interface TrainingDataOptions {
  /**
   * The features to join; their value columns follow the entity columns in this order. A name joins
   * the current build; `{ name, version }` pins a kept build (see `defs.versions(name)`).
   */
  features: readonly TrainingFeature[];
  /** The entity rows: a `.parquet`, `.csv` or `.json` file path (relative to `process.cwd()`), or an array of row objects. */
  entities: Entities;
  /** The entity rows' event-time column; required when any selected feature has a timestamp. @default none (features are joined on keys alone) */
  timestamp?: string;
  /**
   * How time-stamped features are joined: `"asof"` (DuckDB's ASOF LEFT JOIN), `"rank"` (join every
   * earlier feature row, keep the latest per entity row with `row_number()`), or `"auto"`, which
   * picks per feature from the entity rows and the feature's rows per key (see `choosePlan`).
   * Every plan gives the same rows.
   * @default "auto"
   */
  plan?: JoinPlan;
  /** Only with `ReproduceTrainingDataOptions`. */
  reproduce?: undefined;
  /** Stops the work: the running query is interrupted, temporary files are removed and the promise rejects with the signal's reason. @default none */
  signal?: AbortSignal;
}

/**
 * Options of `Definitions.getTrainingData()` that make a training set again from the manifest in
 * the footer of one written by `frame.writeParquet()`: the same feature builds, timestamp column
 * and join plans, checked to be joined to the same entity rows.
 */
export interface ReproduceTrainingDataOptions {
  /** The training set's Parquet file (relative to `process.cwd()`), as `frame.writeParquet()` wrote it. */
  reproduce: string;
  /** The entity rows it was made from, in the same order: a file path or an array of row objects. */
  entities: Entities;
  /** Taken from the manifest. */
  features?: undefined;
  /** Taken from the manifest. */
  timestamp?: undefined;
  /** Taken from the manifest. */
  plan?: undefined;
  /** Stops the work: the running query is interrupted, temporary files are removed and the promise rejects with the signal's reason. @default none */
  signal?: AbortSignal;
}

/** A way to join a time-stamped feature as of each entity row's time. */
export type JoinPlan = "auto" | "asof" | "rank";

/** What `choosePlan` decides from, for one time-stamped feature joined onto the entity rows. */
export interface PlanFacts {
  /** How many entity rows are joined. */
  entityRows: number;
  /** How many rows the stored feature has. */
  featureRows: number;
  /**
   * How the feature's rows spread over its keys and time, recorded by its build; undefined for a
   * build of an older version (or metadata rebuilt from the data file), which gets the older rule.
   */
  keyStats?: KeyStats;
  /** The earliest and latest entity times, in milliseconds since 1970 (UTC). @default unknown: half the feature's rows count as earlier */
  entityTimes?: { first: number; last: number };
}

/**
 * The rank plan is taken while it would join at most this many (entity row, earlier feature row)
 * pairs per row read by the two sides. Both plans read both sides; ASOF then sorts them, the rank
 * plan builds a hash table of the entity rows and ranks every pair. The crossover was measured on
 * two data shapes: see packages/core/README.md ("How the join plan is chosen").
 */
export const RANK_PLAN_MAX_PAIRS_PER_ROW = 3;

/** The rule for features whose build recorded no `keyStats`: rank when the feature has at least this many rows per entity row. */
export const RANK_PLAN_MIN_FEATURE_ROWS_PER_ENTITY_ROW = 5;

/**
 * The mean, over entity times spread evenly between `entity.first` and `entity.last`, of the share
 * of feature times (spread evenly between `feature.first` and `feature.last`) at or before them.
 */
export function shareAtOrBefore(entity: { first: number; last: number }, feature: { first: number; last: number }): number {
  const span = feature.last - feature.first;
  // The integral of the share from -∞ to t: 0 before the first feature time, a parabola across the
  // feature's range, then 1 per unit of time (a step at `first` when the range is one instant).
  const integral = (time: number) => {
    if (time <= feature.first) return 0;
    if (time >= feature.last) return span / 2 + (time - feature.last);
    return (time - feature.first) ** 2 / (2 * span);
  };
  if (entity.last <= entity.first) {
    const time = entity.first;
    return span <= 0 ? (time >= feature.first ? 1 : 0) : Math.min(1, Math.max(0, (time - feature.first) / span));
  }
  return (integral(entity.last) - integral(entity.first)) / (entity.last - entity.first);
}

/**
 * The pairs the rank plan would join: each entity row meets the rows of its key at or before its
 * time. Estimated as if entity rows fell on keys as the feature's rows do (the row-weighted rows
 * per key, which a few busy keys raise far above the plain mean), times the share of a key's rows
 * before an entity time when both spread evenly over their ranges (half, when a range is unknown).
 * Undefined without `keyStats`.
 */
export function estimatedRankPairs(facts: PlanFacts): number | undefined {
  const stats = facts.keyStats;
  if (stats === undefined) return undefined;
  const featureTimes = stats.firstTime === undefined || stats.lastTime === undefined ? undefined : { first: Date.parse(stats.firstTime), last: Date.parse(stats.lastTime) };
  const share = featureTimes === undefined || facts.entityTimes === undefined ? 0.5 : shareAtOrBefore(facts.entityTimes, featureTimes);
  return facts.entityRows * stats.rowWeightedRowsPerKey * share;
}

/**
 * The plan `"auto"` picks for one time-stamped feature: `"rank"` when its estimated pairs (see
 * `estimatedRankPairs`) are at most `RANK_PLAN_MAX_PAIRS_PER_ROW` per row of the two sides, else
 * `"asof"`. A forced plan (`plan: "asof"` or `"rank"`) does not call it.
 */
export function choosePlan(facts: PlanFacts): Exclude<JoinPlan, "auto"> {
  const pairs = estimatedRankPairs(facts);
  if (pairs === undefined) return facts.featureRows >= facts.entityRows * RANK_PLAN_MIN_FEATURE_ROWS_PER_ENTITY_ROW ? "rank" : "asof";
  return pairs <= RANK_PLAN_MAX_PAIRS_PER_ROW * (facts.featureRows + facts.entityRows) ? "rank" : "asof";
}

/** A selected feature with what its stored file holds. */
interface StoredFeatureColumns {
  feature: Feature;
  file: string;
  columns: Column[];
  /** Output columns: every stored column but the keys and the timestamp. */
  values: Column[];
  /** Rows in the stored file (from its Parquet footer). */
  rows: number;
  /** How its rows spread over its keys, when its build recorded it. */
  keyStats: KeyStats | undefined;
}

const TRAINING_DATA_OPTIONS = { features: "any", entities: "any", timestamp: "any", plan: "any", reproduce: "any", signal: "any" } as const;

/** Types an event time may have; anything else cannot be compared with a point in time. */
const timeTypes = new Set(["DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE", "VARCHAR"]);
const numericType = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$/;

const lower = (name: string) => name.toLowerCase();
const quoted = (names: readonly string[]) => names.map((name) => `'${name}'`).join(", ");

/** DuckDB resolves identifiers case-insensitively, so column lookups here do too. */
function findColumn(columns: readonly Column[], name: string): Column | undefined {
  return columns.find((column) => lower(column.name) === lower(name));
}

/** A column name for the query's own use that no user column has. */
function hiddenName(base: string, taken: Set<string>): string {
  let name = `__mlforge_${base}`;
  while (taken.has(lower(name))) name = `_${name}`;
  taken.add(lower(name));
  return name;
}

/** A `features` entry as `{ name, version? }`, or undefined when it is neither a non-empty name nor such an object. */
function featureRef(entry: unknown): FeatureRef | undefined {
  if (typeof entry === "string") return entry === "" ? undefined : { name: entry };
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
  const { name, version, ...rest } = entry as Record<string, unknown>;
  if (typeof name !== "string" || name === "" || Object.keys(rest).length > 0) return undefined;
  if (version === undefined) return { name };
  return typeof version === "string" && version !== "" ? { name, version } : undefined;
}

function validateOptions(options: TrainingDataOptions | ReproduceTrainingDataOptions): void {
  // A TrainingDataError, as before InvalidOptionError existed; it still passes InvalidOptionError.isInstance.
  checkOptions("getTrainingData", options, TRAINING_DATA_OPTIONS, {
    example: '{ features: ["user_total_spend"], entities: "data/labels.parquet", timestamp: "event_time" }',
    errorClass: TrainingDataError,
  });
  const { features, entities, timestamp } = options;
  const checkEntities = () => {
    if (!(typeof entities === "string" && entities.trim() !== "") && !Array.isArray(entities)) {
      throw new TrainingDataError("getTrainingData needs `entities`: a path to a .parquet, .csv or .json file, or an array of row objects.");
    }
  };
  if (options.reproduce !== undefined) {
    if (typeof options.reproduce !== "string" || options.reproduce.trim() === "") {
      throw new TrainingDataError('getTrainingData option \'reproduce\' must be the path of a training set written by frame.writeParquet(), for example reproduce: "train.parquet".');
    }
    const given = (["features", "timestamp", "plan"] as const).filter((key) => options[key] !== undefined);
    if (given.length > 0) {
      throw new TrainingDataError(
        `getTrainingData with 'reproduce' takes the features, their versions, the timestamp column and the join plans from the training set's manifest: drop ${quoted(given)}.`,
      );
    }
    checkEntities();
    return;
  }
  if (!Array.isArray(features) || features.length === 0) {
    throw new TrainingDataError('getTrainingData needs at least one feature name in `features`, for example features: ["user_total_spend"].');
  }
  const invalid = features.find((entry) => featureRef(entry) === undefined);
  if (invalid !== undefined) {
    throw new TrainingDataError(
      `getTrainingData option 'features' holds ${JSON.stringify(invalid) ?? String(invalid)}. List feature names, or { name, version } to pin a kept build: ` +
        'features: ["user_total_spend", { name: "user_daily_spend", version: "<build id from defs.versions()>" }].',
    );
  }
  const names = features.map((entry) => featureRef(entry)!.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw new TrainingDataError(`Feature '${repeated}' is listed twice in 'features'. List each feature once.`);
  checkEntities();
  if (options.plan !== undefined && !["auto", "asof", "rank"].includes(options.plan)) {
    throw new TrainingDataError(`getTrainingData option 'plan' is '${String(options.plan)}'. Use "auto" (the default), "asof" or "rank".`);
  }
  if (timestamp !== undefined && (typeof timestamp !== "string" || timestamp.trim() === "")) {
    throw new TrainingDataError('getTrainingData option `timestamp` must name the entity rows\' event-time column, for example timestamp: "event_time".');
  }
}

/** The selected features, in the order asked; unknown names throw `FeatureNotFoundError` listing the available ones. */
function selectFeatures(defined: readonly Feature[], names: readonly string[]): Feature[] {
  const missing = names.filter((name) => !defined.some((item) => item.name === name));
  if (missing.length > 0) throw new FeatureNotFoundError(missing, defined.map((item) => item.name));
  return names.map((name) => defined.find((item) => item.name === name)!);
}

/** The stored file's columns, split into identity and values; a stale file (built from an older definition) throws. */
async function describeFeature(engine: Engine, feature: Feature, stored: StoredFeature): Promise<StoredFeatureColumns> {
  const file = stored.path;
  const columns = stored.metadata?.schema ?? (await engine.columns(`SELECT * FROM read_parquet(${quotePath(file)})`));
  const identity = [...feature.keys, ...(feature.timestamp === undefined ? [] : [feature.timestamp])];
  const absent = identity.filter((name) => findColumn(columns, name) === undefined);
  if (absent.length > 0) {
    throw new TrainingDataError(
      `Stored feature '${feature.name}' has no column ${quoted(absent)}, which its definition declares as ${feature.timestamp !== undefined && absent.includes(feature.timestamp) ? "key or timestamp" : "a key"}: ` +
        `it was built from an older definition. Rebuild it: run \`mlforge build --features ${feature.name} --force\` or call \`await defs.build({ features: ["${feature.name}"], force: true })\`.`,
    );
  }
  const values = columns.filter((column) => !identity.some((name) => lower(name) === lower(column.name)));
  const rows = stored.metadata?.rows ?? Number((await engine.rows(`SELECT count(*)::BIGINT AS n FROM read_parquet(${quotePath(file)})`))[0]?.n ?? 0);
  return { feature, file, columns, values, rows, keyStats: stored.metadata?.keyStats };
}

/** Throws `TrainingDataError` naming every column the features need that the entity rows lack. */
function checkEntityColumns(entities: EntityRelation, stored: readonly StoredFeatureColumns[], timestamp: string | undefined): void {
  const entityList = entities.columns.map((column) => column.name).join(", ");
  const timed = stored.filter(({ feature }) => feature.timestamp !== undefined);
  if (timed.length > 0 && timestamp === undefined) {
    throw new TrainingDataError(
      `${timed.length === 1 ? "Feature" : "Features"} ${quoted(timed.map(({ feature }) => feature.name))} ${timed.length === 1 ? "has a timestamp" : "have timestamps"}, ` +
        "so getTrainingData needs `timestamp`: the entity rows' event-time column, as of which feature values are joined " +
        `(for example timestamp: "event_time"). Entity columns: ${entityList}.`,
    );
  }
  const missing = new Map<string, string[]>();
  for (const { feature } of stored) {
    for (const key of feature.keys) {
      if (findColumn(entities.columns, key) === undefined) missing.set(key, [...(missing.get(key) ?? []), feature.name]);
    }
  }
  const items = [...missing].map(([key, features]) => `'${key}' (a key of ${features.length === 1 ? "feature" : "features"} ${quoted(features)})`);
  const timestampMissing = timestamp !== undefined && findColumn(entities.columns, timestamp) === undefined;
  if (timestampMissing) items.push(`'${timestamp}' (the \`timestamp\` option)`);
  if (items.length > 0) {
    throw new TrainingDataError(
      `The ${entities.label} ${entities.label === "entity rows" ? "have" : "has"} no ${items.length === 1 ? "column" : "columns"} ${items.join(", ")}. Entity columns: ${entityList}. ` +
        `Add ${items.length === 1 ? "it" : "them"} to the entity rows${timestampMissing ? ", or set `timestamp` to the entity rows' event-time column" : ""}.`,
    );
  }
}

/** Throws `TrainingDataError` when two output columns would share a name (DuckDB names are case-insensitive). */
function checkClashes(entities: EntityRelation, stored: readonly StoredFeatureColumns[]): void {
  const owners = new Map<string, { column: string; feature?: string }>();
  for (const column of entities.columns) owners.set(lower(column.name), { column: column.name });
  const clashes: string[] = [];
  let withEntity = false;
  let example = "";
  for (const { feature, values } of stored) {
    for (const column of values) {
      const owner = owners.get(lower(column.name));
      if (owner === undefined) {
        owners.set(lower(column.name), { column: column.name, feature: feature.name });
        continue;
      }
      example ||= `${column.name} AS ${feature.name}_${column.name}`;
      if (owner.feature === undefined) {
        withEntity = true;
        clashes.push(`Column '${column.name}' of feature '${feature.name}' clashes with the entity column '${owner.column}'.`);
      } else clashes.push(`Column '${column.name}' of feature '${feature.name}' clashes with column '${owner.column}' of feature '${owner.feature}'.`);
    }
  }
  if (clashes.length > 0) {
    throw new TrainingDataError(
      `${clashes.join(" ")} Every output column needs its own name: rename the column in the feature's SELECT (for example \`SELECT …, ${example}\`) and rebuild it` +
        `${withEntity ? ", or rename or drop the entity column" : ""}.`,
    );
  }
}

/** Throws `TrainingDataError` when an event-time column has a type that is not a point in time. */
function checkTimeType(where: string, column: Column): void {
  if (!timeTypes.has(column.type)) {
    throw new TrainingDataError(
      `${where} '${column.name}' is ${column.type}, which is not a point in time. Use a TIMESTAMP, TIMESTAMPTZ or DATE column, or ISO 8601 strings.`,
    );
  }
}

/**
 * The condition that an entity's key value `left` (of DuckDB type `leftType`) is exactly the
 * feature's key `right`, by the rule online reads use (`online/key-codec.ts`): an integer key
 * matches numbers equal to it and strings of decimal digits; a string key matches strings; a
 * boolean key matches booleans and "true"/"false". Anything else (DuckDB's casts of "1.5", "0x10",
 * "1e1", " 3 " or true to an integer) is NULL, which matches nothing.
 */
function keyMatch(left: string, leftType: string, right: string, rightType: string): string {
  const kind = keyKind(rightType);
  const isText = leftType === "VARCHAR";
  switch (kind) {
    case "integer":
      if (numericType.test(leftType)) return `${left} = ${right}`;
      // INTEGER_KEY_TEXT in SQL: TRY_CAST alone would take "1.5", "0x10", "1e1" and " 3 ".
      if (isText) return `CASE WHEN regexp_full_match(${left}, '-?[0-9]+') THEN TRY_CAST(${left} AS ${rightType}) END = ${right}`;
      return "NULL";
    case "string":
      if (keyKind(leftType) !== "string") return "NULL";
      return leftType === rightType ? `${left} = ${right}` : `CAST(${left} AS VARCHAR) = CAST(${right} AS VARCHAR)`;
    case "boolean":
      if (leftType === "BOOLEAN") return `${left} = ${right}`;
      if (isText) return `CASE ${left} WHEN 'true' THEN true WHEN 'false' THEN false END = ${right}`;
      return "NULL";
    default: {
      // Keys of other types (dates, decimals): DuckDB compares numbers of any width, but VARCHAR against
      // a number fails on the first non-number; TRY_CAST turns such a key into NULL, which matches nothing.
      const compatible = leftType === rightType || (numericType.test(leftType) && numericType.test(rightType));
      return `${compatible ? left : `TRY_CAST(${left} AS ${rightType})`} = ${right}`;
    }
  }
}

/** The as-of join of the features onto the entity rows, in entity order; see `getTrainingData`. */
function trainingSql(
  entities: EntityRelation,
  stored: readonly StoredFeatureColumns[],
  timestamp: string | undefined,
  plan: (feature: StoredFeatureColumns) => Exclude<JoinPlan, "auto">,
): string {
  const taken = new Set([...entities.columns, ...stored.flatMap((item) => item.columns)].map((column) => lower(column.name)));
  const rowName = hiddenName("row", taken);
  const timeName = hiddenName("time", taken);
  const entityTime = timestamp === undefined ? undefined : findColumn(entities.columns, timestamp);
  const e = quoteIdentifier("entities");
  const column = (relation: string, name: string) => `${relation}.${quoteIdentifier(name)}`;

  // Event times are compared as TIMESTAMPTZ (the engine's session is UTC, so a TIMESTAMP means UTC
  // and ISO strings without an offset too), unless both sides already have the same type: then
  // they are compared as they are, keeping nanoseconds and dates exact.
  const castTime = (expression: string) => `CAST(${expression} AS TIMESTAMP WITH TIME ZONE)`;
  const sameTimeType = (featureTime: Column) => entityTime !== undefined && entityTime.type === featureTime.type && entityTime.type !== "VARCHAR";
  const needsEntityCast = stored.some(({ feature, columns }) => feature.timestamp !== undefined && !sameTimeType(findColumn(columns, feature.timestamp)!));

  const entitySelect = [`*`, `row_number() OVER () AS ${quoteIdentifier(rowName)}`];
  if (needsEntityCast) entitySelect.push(`${castTime(quoteIdentifier(entityTime!.name))} AS ${quoteIdentifier(timeName)}`);
  // An empty OVER () numbers rows in scan order, which DuckDB preserves for a single table function.
  const ctes = [`${e} AS (SELECT ${entitySelect.join(", ")} FROM ${entities.relation})`];
  const joins: string[] = [];
  // CTEs that read the feature CTEs, so they come after all of them.
  const lateCtes: string[] = [];
  const outputs = entities.columns.map((entityColumn) => column(e, entityColumn.name));

  for (const [index, { feature, file, columns, values }] of stored.entries()) {
    const f = quoteIdentifier(`feature_${index}`);
    // The relation the feature's values are read from in the final SELECT.
    let source = f;
    const keys = feature.keys.map((key) => findColumn(columns, key)!);
    const select = [...keys.map((key) => quoteIdentifier(key.name)), ...values.map((value) => quoteIdentifier(value.name))];
    const on = keys.map((key) => keyMatch(column(e, findColumn(entities.columns, key.name)!.name), findColumn(entities.columns, key.name)!.type, column(f, key.name), key.type));
    if (feature.timestamp === undefined) {
      joins.push(`LEFT JOIN ${f} ON ${on.join(" AND ")}`);
    } else {
      const featureTime = findColumn(columns, feature.timestamp)!;
      const same = sameTimeType(featureTime);
      select.push(`${same ? quoteIdentifier(featureTime.name) : castTime(quoteIdentifier(featureTime.name))} AS ${quoteIdentifier(timeName)}`);
      const left = same ? column(e, entityTime!.name) : column(e, timeName);
      const asOf = [...on, `${left} >= ${column(f, timeName)}`].join(" AND ");
      if (plan(stored[index]!) === "asof") {
        // The latest feature row at or before the entity's time. ASOF matches no row for a NULL key
        // or a NULL entity time (checked by the tests), so those entity rows get NULL values.
        joins.push(`ASOF LEFT JOIN ${f} ON ${asOf}`);
      } else {
        // Every earlier feature row of the same keys, keeping the latest per entity row (rows are
        // unique per key and time, so the order is total); NULL keys and times match nothing.
        const latest = quoteIdentifier(`latest_${index}`);
        lateCtes.push(
          `${latest} AS (SELECT ${column(e, rowName)}, ${values.map((value) => column(f, value.name)).join(", ")} FROM ${e} JOIN ${f} ON ${asOf} ` +
            `QUALIFY row_number() OVER (PARTITION BY ${column(e, rowName)} ORDER BY ${column(f, timeName)} DESC) = 1)`,
        );
        joins.push(`LEFT JOIN ${latest} ON ${column(e, rowName)} = ${column(latest, rowName)}`);
        source = latest;
      }
    }
    ctes.push(`${f} AS (SELECT ${select.join(", ")} FROM read_parquet(${quotePath(file)}))`);
    outputs.push(...values.map((value) => column(source, value.name)));
  }

  return [`WITH ${[...ctes, ...lateCtes].join(",\n")}`, `SELECT ${outputs.join(", ")}`, `FROM ${e}`, ...joins, `ORDER BY ${column(e, rowName)}`].join("\n");
}

/** The manifest in the footer of training set `file`, read with an engine of its own (see `readTrainingManifest`). */
async function readManifestFile(context: Session, file: string): Promise<TrainingManifest> {
  const engine = await Engine.open(context.engineOptions);
  try {
    return await readTrainingManifest(engine, path.resolve(context.baseDirectory, file), file);
  } finally {
    engine.close();
  }
}

/** A pinned build is joined by the keys and timestamp it was built with, which a later definition may have changed. */
function asBuilt(feature: Feature, ref: FeatureRef, stored: StoredFeature): Feature {
  const metadata = stored.metadata;
  if (ref.version === undefined || metadata === undefined) return feature;
  return { ...feature, keys: metadata.keys, timestamp: metadata.timestamp };
}

/** The plan a reproduced training set's manifest records for time-stamped feature `name`. */
function forcedPlan(forced: ReadonlyMap<string, TrainingPlan>, name: string): Exclude<JoinPlan, "auto"> {
  const plan = forced.get(name);
  if (plan === "asof" || plan === "rank") return plan;
  throw new TrainingDataError(`The training set's manifest records no as-of plan for feature '${name}', whose build has a timestamp: the manifest does not describe this build. Pass an unchanged training set file.`);
}

/**
 * The manifest of a training frame: the build each feature was read from and how it was joined,
 * and the entity rows. Undefined when a feature's file has no build id (placed by hand, never built
 * by mlforge), as nothing could pin it.
 */
function trainingManifest(
  files: readonly StoredFeature[],
  plans: ReadonlyMap<string, TrainingPlan>,
  entities: TrainingManifest["entities"],
  timestamp: string | undefined,
  duckdb: string,
): TrainingManifest | undefined {
  if (files.some(({ metadata }) => metadata === undefined)) return undefined;
  return {
    formatVersion: 1,
    features: files.map(({ name, metadata }) => ({ name, buildId: metadata!.buildId, fingerprint: metadata!.fingerprint, rows: metadata!.rows, plan: plans.get(name) ?? "keys" })),
    entities,
    ...(timestamp === undefined ? {} : { timestamp }),
    duckdb,
  };
}

/** Throws `TrainingDataError` when a reproduction did not use what the manifest records (which only a hand-edited manifest can cause). */
function checkReproduced(expected: TrainingManifest, actual: TrainingManifest | undefined, given: string): void {
  const differences: string[] = [];
  if (actual === undefined) differences.push("a feature's data has no build id");
  else {
    for (const [index, feature] of expected.features.entries()) {
      const used = actual.features[index]!;
      for (const key of ["buildId", "fingerprint", "rows", "plan"] as const) {
        if (used[key] !== feature[key]) differences.push(`feature '${feature.name}' ${key} ${String(used[key])}, not ${String(feature[key])}`);
      }
    }
    if (actual.timestamp !== expected.timestamp) differences.push(`timestamp ${String(actual.timestamp)}, not ${String(expected.timestamp)}`);
  }
  if (differences.length === 0) return;
  throw new TrainingDataError(
    `Training set '${given}' could not be reproduced as its manifest describes it: the reproduction has ${differences.join("; ")}. ` +
      "Was the manifest edited by hand? Pass the file as frame.writeParquet() wrote it.",
  );
}

/**
 * Point-in-time correct training data: exactly one row per entity row, in the entity rows' order,
 * with the entity columns first and then each feature's value columns. A feature with a timestamp
 * contributes its latest row with the same keys and a time at or before the entity's time (none:
 * NULLs); one without contributes the row with the same keys. Every problem that can be seen
 * without running the join is reported before any work. The frame's `manifest` records the builds,
 * plans and entity rows used; with `reproduce`, they come from a written training set's manifest.
 */
export async function getTrainingData(context: Session, options: TrainingDataOptions | ReproduceTrainingDataOptions): Promise<FeatureFrame> {
  validateOptions(options);
  const reproduce = options.reproduce === undefined ? undefined : await readManifestFile(context, options.reproduce);
  const refs = reproduce?.features.map(({ name, buildId }) => ({ name, version: buildId })) ?? options.features!.map((entry) => featureRef(entry)!);
  const timestamp = reproduce === undefined ? options.timestamp : reproduce.timestamp;
  const selected = selectFeatures(context.features, refs.map(({ name }) => name));
  await context.offlineStore.check();

  const { signal } = options;
  signal?.throwIfAborted();
  let temporaryDirectory: string | undefined;
  const engine = await Engine.open(context.engineOptions);
  const interrupt = () => engine.interrupt();
  signal?.addEventListener("abort", interrupt, { once: true });
  let handedOver = false;
  try {
    const files = await openStoredFeatures(engine, context.offlineStore, refs);
    const stored: StoredFeatureColumns[] = [];
    for (const [index, feature] of selected.entries()) stored.push(await describeFeature(engine, asBuilt(feature, refs[index]!, files[index]!), files[index]!));

    const rows = typeof options.entities === "string" ? undefined : options.entities;
    const entityColumns = rows === undefined ? undefined : inferEntityColumns(rows);
    let entities: EntityRelation =
      rows === undefined
        ? await describeEntityFile(engine, options.entities as string, context.baseDirectory)
        : { relation: "", columns: entityColumns!, label: "entity rows" };

    checkEntityColumns(entities, stored, timestamp);
    checkClashes(entities, stored);
    const entityTime = timestamp === undefined ? undefined : findColumn(entities.columns, timestamp)!;
    if (entityTime !== undefined && stored.some(({ feature }) => feature.timestamp !== undefined)) {
      checkTimeType("Entity column", entityTime);
      for (const { feature, columns } of stored) {
        if (feature.timestamp !== undefined) checkTimeType(`Timestamp column of feature '${feature.name}',`, findColumn(columns, feature.timestamp)!);
      }
    }

    if (rows !== undefined) {
      // Beside DuckDB's spill files when the user chose a place for temporary data.
      temporaryDirectory = await createTemporaryDirectory(context.engineOptions.tempDirectory);
      entities = await writeEntityRows(engine, rows, entityColumns!, path.join(temporaryDirectory, "entities.parquet"));
    }

    if (entityTime?.type === "VARCHAR" && stored.some(({ feature }) => feature.timestamp !== undefined)) {
      const time = quoteIdentifier(entityTime.name);
      const [bad] = await engine.rows(
        `SELECT ${time} AS value FROM ${entities.relation} WHERE ${time} IS NOT NULL AND TRY_CAST(${time} AS TIMESTAMP WITH TIME ZONE) IS NULL LIMIT 1`,
      );
      if (bad !== undefined) {
        throw new TrainingDataError(
          `Entity column '${entityTime.name}' holds '${String(bad.value)}', which is not an ISO 8601 time. Use times such as '2024-05-01T12:00:00Z' (no offset means UTC).`,
        );
      }
    }

    const requested = options.plan ?? "auto";
    const forced = reproduce === undefined ? undefined : new Map(reproduce.features.map(({ name, plan }) => [name, plan]));
    const plans = new Map<string, TrainingPlan>();
    // The row count and the entity rows' fingerprint for the manifest, in one pass; with the range
    // of the entity times (for the share of feature rows before them) when a plan is to be chosen from it.
    const rangeNeeded = forced === undefined && requested === "auto" && stored.some(({ feature, keyStats }) => feature.timestamp !== undefined && keyStats?.firstTime !== undefined);
    const hash = await hashEntities(engine, entities.relation, entities.columns, entities.parquetFile, rangeNeeded ? entityTime : undefined);
    const numRows = hash.rows;
    const entityTimes = hash.times;
    const entityPart = manifestEntities(entities.columns, hash);
    if (reproduce !== undefined) checkEntityRows(reproduce, entityPart, hash.duckdb, options.reproduce!);
    const sql = trainingSql(entities, stored, timestamp, (feature) => {
      const facts = { entityRows: numRows, featureRows: feature.rows, keyStats: feature.keyStats, ...(entityTimes === undefined ? {} : { entityTimes }) };
      const plan = forced === undefined ? (requested === "auto" ? choosePlan(facts) : requested) : forcedPlan(forced, feature.feature.name);
      plans.set(feature.feature.name, plan);
      return plan;
    });
    let schema: Column[];
    try {
      schema = await engine.columns(`SELECT * FROM (${sql})`);
    } catch (error) {
      throw new TrainingDataError(`DuckDB could not plan the training data query: ${errorMessage(error)}`, { cause: error });
    }
    const manifest = trainingManifest(files, plans, entityPart, timestamp, hash.duckdb);
    if (reproduce !== undefined) checkReproduced(reproduce, manifest, options.reproduce!);
    // Interrupted between queries, or in a query whose error was wrapped: stopped all the same.
    signal?.throwIfAborted();
    // The frame's first method (usually writeParquet, at once) runs on this engine instead of starting another.
    const frame = new FeatureFrame({ sql, schema, numRows, engineOptions: context.engineOptions, temporaryDirectory, engine, ...(manifest === undefined ? {} : { manifest }) });
    handedOver = true;
    return frame;
  } catch (error) {
    if (temporaryDirectory !== undefined) await removeTemporaryDirectory(temporaryDirectory);
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener("abort", interrupt);
    if (!handedOver) engine.close();
  }
}
