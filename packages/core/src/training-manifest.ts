import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import type { Column, Engine } from "./engine";
import { EntityRowsMismatchError, SourceNotFoundError, TrainingDataError } from "./errors";
import { errorMessage, firstLine } from "./errors/error-message";
import { FEATURE_NAME_PATTERN } from "./feature";
import { isBuildId } from "./layout";
import { quotePath } from "./literal-path";
import { quoteIdentifier, quoteLiteral } from "./sql";
import { timeRangeSql } from "./time-range";

/**
 * What a training set was made from, so that it can be explained and made again: the build of each
 * feature, how it was joined, and which entity rows. `frame.manifest` returns it and
 * `frame.writeParquet()` stores it in the file's footer (key `mlforge_training`), where
 * `getTrainingData({ reproduce: file, entities })` reads it back.
 *
 * It holds no time or host: a reproduction has the same manifest as the original, so (with the same
 * DuckDB) the same Parquet bytes.
 */
export interface TrainingManifest {
  /** Version of this document's shape. */
  formatVersion: 1;
  /** Each feature joined, in column order. */
  features: TrainingManifestFeature[];
  /** The entity rows the features were joined to. */
  entities: TrainingManifestEntities;
  /** The entity rows' event-time column; absent when no feature has a timestamp and none was given. */
  timestamp?: string;
  /** The DuckDB version that computed it (`version()`, such as "v1.5.6"); the entity fingerprint uses DuckDB's `hash()`. */
  duckdb: string;
}

/** One feature of a training set: which build was joined, and how. */
export interface TrainingManifestFeature {
  name: string;
  /** The build whose data was joined (a version `defs.versions(name)` lists while it is kept). */
  buildId: string;
  /** That build's fingerprint of its definition and source (`FeatureMetadata.fingerprint`). */
  fingerprint: string;
  /** Rows in that build. */
  rows: number;
  /** How it was joined: as of each entity row's time by ASOF JOIN or by rank (see `JoinPlan`), or on its keys alone (a feature without a timestamp). */
  plan: TrainingPlan;
}

/** How one feature of a training set was joined. */
export type TrainingPlan = "asof" | "rank" | "keys";

/** The entity rows of a training set, as a fingerprint. */
export interface TrainingManifestEntities {
  rows: number;
  /** Their columns and DuckDB types, in order. */
  columns: Column[];
  /**
   * 32 hex digits over the row count, the columns' names and types in order, every value and the
   * rows' order (see `entityFingerprintSql`). Equal fingerprints mean the same rows in the same order;
   * it detects changed data, it is not a cryptographic commitment.
   */
  fingerprint: string;
}

/** The key of the manifest in a training set's Parquet key-value metadata; feature files use `mlforge`. */
export const TRAINING_FOOTER_KEY = "mlforge_training";

/** What `entityFingerprintSql` returns, before `entityFingerprint` folds in the columns. */
export interface EntityHash {
  rows: number;
  /** The XOR of every row's hash, as a decimal string. */
  rowHash: string;
  /** DuckDB's `version()`. */
  duckdb: string;
  /** The earliest and latest time of the column asked for, in milliseconds since 1970 (UTC); absent when none is a time. */
  times?: { first: number; last: number };
}

/**
 * One query over `relation` (read in scan order, as the training join reads it) counting its rows
 * and hashing them. Each row's hash mixes, with DuckDB's `hash()` applied again after every XOR so
 * that nothing cancels, its row number and each value salted by its column's position: moving a
 * row, moving a value to another column or changing one changes it. The rows' hashes are XORed
 * (an aggregate DuckDB runs in parallel). One pass over every column: 1M rows of four columns
 * took 0.15-0.45 s on two heavily loaded cores (the count it replaces read only Parquet metadata).
 * Given `parquetFile`, the Parquet file `relation` reads, rows are numbered by their position in
 * it (`file_row_number`, which every thread reads with its rows) instead of `row_number() OVER ()`
 * (one thread): the same numbers, so the same fingerprint, in about half the time (5M rows of two
 * columns: 0.39 s instead of 0.92 s).
 */
export function entityFingerprintSql(relation: string, columns: readonly Column[], parquetFile?: string, extra = ""): string {
  let name = "__mlforge_row";
  while (columns.some((column) => column.name.toLowerCase() === name)) name = `_${name}`;
  const row = quoteIdentifier(name);
  const positions = parquetFile !== undefined && !columns.some((column) => column.name.toLowerCase() === "file_row_number");
  const numbered = positions
    ? `SELECT file_row_number + 1 AS ${row}, * FROM read_parquet([${quotePath(parquetFile!)}], file_row_number = true)`
    : `SELECT row_number() OVER () AS ${row}, * FROM ${relation}`;
  const values = columns.map((column, index) => `hash(xor(hash(${quoteIdentifier(column.name)}), hash(${index + 1})))`);
  // A balanced tree of XORs keeps the expression shallow for entity rows of many columns.
  const combine = (items: string[]): string => (items.length === 1 ? items[0]! : `xor(${combine(items.slice(0, items.length >> 1))}, ${combine(items.slice(items.length >> 1))})`);
  const rowHash = `hash(xor(hash(hash(${row})), ${combine(values)}))`;
  return (
    `SELECT count(*)::BIGINT AS row_count, coalesce(bit_xor(${rowHash}), 0)::VARCHAR AS row_hash, version() AS duckdb${extra} ` +
    `FROM (${numbered})`
  );
}

/**
 * Runs `entityFingerprintSql` on `engine`; given `timeColumn`, the same pass takes the range of its
 * times (see `timeRangeSql`), which `choosePlan` uses.
 */
export async function hashEntities(engine: Engine, relation: string, columns: readonly Column[], parquetFile?: string, timeColumn?: Column): Promise<EntityHash> {
  const range = timeColumn === undefined ? "" : `, ${timeRangeSql(quoteIdentifier(timeColumn.name), timeColumn.type)}`;
  const [result] = await engine.rows(entityFingerprintSql(relation, columns, parquetFile, range));
  const first = result?.first_time;
  const times = first === null || first === undefined ? {} : { times: { first: Number(first), last: Number(result!.last_time) } };
  return { rows: Number(result?.row_count ?? 0), rowHash: String(result?.row_hash ?? "0"), duckdb: String(result?.duckdb ?? ""), ...times };
}

/** The entity rows' part of a manifest: the fingerprint folds the columns and row count into the rows' hash. */
export function manifestEntities(columns: readonly Column[], hash: EntityHash): TrainingManifestEntities {
  const described = columns.map(({ name, type }) => ({ name, type }));
  const fingerprint = createHash("sha256")
    .update(JSON.stringify([1, described.map(({ name, type }) => [name, type]), hash.rows, hash.rowHash]))
    .digest("hex")
    .slice(0, 32);
  return { rows: hash.rows, columns: described, fingerprint };
}

/** The manifest as stored: compact JSON with keys in a fixed order, so that equal manifests are equal bytes. */
export function serializeTrainingManifest(manifest: TrainingManifest): string {
  return JSON.stringify({
    formatVersion: manifest.formatVersion,
    features: manifest.features.map(({ name, buildId, fingerprint, rows, plan }) => ({ name, buildId, fingerprint, rows, plan })),
    entities: { rows: manifest.entities.rows, columns: manifest.entities.columns.map(({ name, type }) => ({ name, type })), fingerprint: manifest.entities.fingerprint },
    ...(manifest.timestamp === undefined ? {} : { timestamp: manifest.timestamp }),
    duckdb: manifest.duckdb,
  });
}

/** A deep-frozen copy, so that a frame's manifest cannot be changed after the fact. */
export function freezeManifest(manifest: TrainingManifest): TrainingManifest {
  const copy = JSON.parse(serializeTrainingManifest(manifest)) as TrainingManifest;
  for (const feature of copy.features) Object.freeze(feature);
  for (const column of copy.entities.columns) Object.freeze(column);
  Object.freeze(copy.features);
  Object.freeze(copy.entities.columns);
  Object.freeze(copy.entities);
  return Object.freeze(copy);
}

const PLANS: readonly string[] = ["asof", "rank", "keys"];
const isString = (value: unknown): value is string => typeof value === "string";
const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** What is wrong with a parsed manifest, or undefined when it has the right shape. */
function manifestProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return "it is not a JSON object";
  if (value.formatVersion !== 1) {
    return typeof value.formatVersion === "number" && value.formatVersion > 1
      ? `its formatVersion is ${value.formatVersion}: it was written by a newer mlforge. Upgrade @mlforge/core to reproduce it`
      : `its formatVersion is ${JSON.stringify(value.formatVersion)}, not 1`;
  }
  if (!Array.isArray(value.features) || value.features.length === 0) return "it lists no features";
  for (const [index, feature] of value.features.entries()) {
    if (!isRecord(feature)) return `features[${index}] is not an object`;
    if (!isString(feature.name) || !FEATURE_NAME_PATTERN.test(feature.name)) return `features[${index}].name is not a feature name`;
    if (!isBuildId(feature.buildId)) return `features[${index}].buildId is not a build id`;
    if (!isString(feature.fingerprint)) return `features[${index}].fingerprint is not a string`;
    if (!isCount(feature.rows)) return `features[${index}].rows is not a row count`;
    if (!PLANS.includes(feature.plan as string)) return `features[${index}].plan is ${JSON.stringify(feature.plan)}, not one of ${PLANS.join(", ")}`;
  }
  const names = value.features.map((feature: Record<string, unknown>) => feature.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) return `it lists feature '${String(repeated)}' twice`;
  const entities = value.entities;
  if (!isRecord(entities)) return "it has no entities";
  if (!isCount(entities.rows)) return "entities.rows is not a row count";
  if (!isString(entities.fingerprint)) return "entities.fingerprint is not a string";
  if (!Array.isArray(entities.columns) || !entities.columns.every((column) => isRecord(column) && isString(column.name) && isString(column.type))) {
    return "entities.columns is not a list of columns with name and type";
  }
  if (value.timestamp !== undefined && !isString(value.timestamp)) return "its timestamp is not a column name";
  if (!isString(value.duckdb)) return "it has no duckdb version";
  return undefined;
}

/**
 * The manifest in the footer of training set `file` (an absolute path; `given` is the path as the
 * caller wrote it, for messages). Throws `SourceNotFoundError` when there is no such file and
 * `TrainingDataError` when it is not Parquet, has no manifest, or has one of the wrong shape.
 */
export async function readTrainingManifest(engine: Engine, file: string, given: string): Promise<TrainingManifest> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    throw new SourceNotFoundError(given, `Training set '${given}' does not exist (looked for ${file}). Pass the Parquet file that frame.writeParquet() (or \`mlforge training-data --out\`) wrote.`);
  }
  let document: string | undefined;
  try {
    const [row] = await engine.rows(`SELECT decode(value) AS document FROM parquet_kv_metadata(${quotePath(file)}) WHERE key = ${quoteLiteral(TRAINING_FOOTER_KEY)}::BLOB`);
    document = row?.document as string | undefined;
  } catch (error) {
    throw new TrainingDataError(
      `Training set '${given}' is not a readable Parquet file (${firstLine(errorMessage(error))}), so it has no manifest to reproduce. Pass the Parquet file that frame.writeParquet() wrote.`,
      { cause: error },
    );
  }
  if (document === undefined) {
    throw new TrainingDataError(
      `Training set '${given}' has no mlforge manifest in its Parquet footer (key '${TRAINING_FOOTER_KEY}'), so it cannot be reproduced. ` +
        "Only Parquet files written by frame.writeParquet() of a getTrainingData() frame (or `mlforge training-data --out x.parquet`) carry one; CSV files and files written by other tools do not.",
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    parsed = undefined;
  }
  const problem = parsed === undefined ? "it is not JSON" : manifestProblem(parsed);
  if (problem !== undefined) {
    throw new TrainingDataError(`The mlforge manifest in the footer of training set '${given}' cannot be used: ${problem}.`);
  }
  return parsed as TrainingManifest;
}

const describeColumns = (columns: readonly Column[]) => columns.map(({ name, type }) => `${name} ${type}`).join(", ");

/**
 * Throws `EntityRowsMismatchError` when the entity rows given to a reproduction are not those the
 * manifest of training set `given` records, saying what differs when the manifest can tell.
 */
export function checkEntityRows(manifest: TrainingManifest, actual: TrainingManifestEntities, duckdb: string, given: string): void {
  const expected = manifest.entities;
  if (actual.fingerprint === expected.fingerprint) return;
  const what =
    describeColumns(actual.columns) !== describeColumns(expected.columns)
      ? `Their columns differ: the training set's were ${describeColumns(expected.columns)}; these are ${describeColumns(actual.columns)}.`
      : actual.rows !== expected.rows
        ? `The training set had ${expected.rows} entity rows; these are ${actual.rows}.`
        : `Columns and row count (${actual.rows}) are the same, so values or the rows' order differ.`;
  const engine = duckdb !== manifest.duckdb ? ` The manifest was computed by DuckDB ${manifest.duckdb} and this is ${duckdb}, whose hash() may differ for the same rows.` : "";
  throw new EntityRowsMismatchError(
    `The entity rows are not those training set '${given}' was made from: entity fingerprint expected ${expected.fingerprint}, got ${actual.fingerprint}. ${what}${engine} ` +
      "Pass the same entity rows, in the same order, as when the training set was written.",
    given,
    expected.fingerprint,
    actual.fingerprint,
  );
}
