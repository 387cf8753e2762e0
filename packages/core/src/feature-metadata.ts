import type { CheckResult } from "./checks";
import type { Column } from "./engine";
import type { SourceFile } from "./source";

/**
 * The metadata document stored beside each built feature (`_metadata/<name>.json`). It is an
 * index written after the data; the data file's Parquet footer carries the same `buildId` and
 * the fields known before the data was written (see `FeatureFooter`), so that a document left
 * stale by a crash between the two writes can be told apart and rebuilt from the data.
 *
 * The format only grows: new fields are optional and readers ignore fields they do not know, so
 * a document written by a newer mlforge never looks "not built" to an older one. `formatVersion`
 * stays 1 for as long as that holds.
 */
export interface FeatureMetadata {
  /** Version of this document's shape. */
  formatVersion: 1;
  name: string;
  /** Name of the `Definitions` that built it. */
  definitions: string;
  description?: string;
  tags: string[];
  keys: string[];
  timestamp?: string;
  /** The source as declared. */
  source: string;
  /** The files it resolved to when built. */
  sourceFiles: SourceFile[];
  /** Columns and DuckDB types of the stored Parquet file, as readers see them. */
  schema: Column[];
  rows: number;
  bytes: number;
  /** Hash of the rendered SQL, keys, timestamp and source files' identity; unchanged means skip. */
  fingerprint: string;
  /** Random id of the build that wrote the data; the data file's footer holds the same one. */
  buildId: string;
  /** ISO 8601 time the build finished (for metadata rebuilt from a data file: when its data was computed). */
  builtAt: string;
  /** How long the build took (0 for metadata rebuilt from a data file). */
  durationMs: number;
  /** The store's version token (S3: the ETag) of the data object this build wrote, when the store has one; lets a build skip without downloading. */
  dataEtag?: string;
  /** The result of each of the feature's checks in this build (absent when it has none, or when the document was rebuilt from the data file). */
  checks?: CheckResult[];
  /** Set on the current document when a rollback made this build current again (see `Definitions.rollback()`); absent after a build. */
  rollback?: RollbackRecord;
  /**
   * For a feature with a timestamp: how its rows spread over its keys, counted by the build's
   * validation; training data chooses its join plan from it (absent when the feature has no
   * timestamp, for builds of older versions, and when the document was rebuilt from the data file).
   */
  keyStats?: KeyStats;
}

/** What a rollback records in the metadata document of the version it made current. */
export interface RollbackRecord {
  /** The kept build that became current again (the document's `buildId`). */
  restoredBuildId: string;
  /** The build that was current before the rollback ("" when the data had no build id). */
  replacedBuildId: string;
  /** When the rollback happened (ISO 8601). */
  rolledBackAt: string;
}

/** How the rows of a time-stamped feature spread over its keys (see `FeatureMetadata.keyStats`). */
export interface KeyStats {
  /** Distinct keys. */
  keys: number;
  /** The most rows one key has. */
  maxRowsPerKey: number;
  /**
   * The mean, over rows, of how many rows that row's key has (the sum of every key's row count
   * squared, divided by the rows): rows / keys when every key has as many rows, more when a few
   * keys hold most of them.
   */
  rowWeightedRowsPerKey: number;
  /** The earliest of its times, as an ISO 8601 instant (UTC); absent when no time could be read as one. */
  firstTime?: string;
  /** The latest of its times, as an ISO 8601 instant (UTC); absent when no time could be read as one. */
  lastTime?: string;
}

/** What a built feature's Parquet footer holds (key `mlforge`): the metadata known before its data was written. */
export type FeatureFooter = Omit<FeatureMetadata, "schema" | "rows" | "bytes" | "durationMs" | "dataEtag" | "checks" | "rollback" | "keyStats">;

/** The key of mlforge's document in a Parquet file's key-value metadata. */
export const FOOTER_KEY = "mlforge";

/** Format 1 and any later one: later formats only add fields (see `FeatureMetadata`). */
function isKnownFormat(version: unknown): boolean {
  return typeof version === "number" && Number.isInteger(version) && version >= 1;
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : JSON.stringify(value);
}

const isString = (value: unknown): value is string => typeof value === "string";
const isCount = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
const isStrings = (value: unknown): boolean => Array.isArray(value) && value.every(isString);
const isSourceFile = (value: unknown): boolean => {
  const file = value as Record<string, unknown> | null;
  return typeof file === "object" && file !== null && isString(file.path) && isCount(file.size) && (isString(file.version) || (typeof file.modifiedMs === "number" && Number.isFinite(file.modifiedMs)));
};
const isTime = (value: unknown): boolean => isString(value) && !Number.isNaN(Date.parse(value));
const isRollbackRecord = (value: unknown): boolean => {
  const record = value as Record<string, unknown> | null;
  return typeof record === "object" && record !== null && isString(record.restoredBuildId) && isString(record.replacedBuildId) && isTime(record.rolledBackAt);
};
const isColumn = (value: unknown): boolean => {
  const column = value as Record<string, unknown> | null;
  return typeof column === "object" && column !== null && isString(column.name) && isString(column.type);
};

const isKeyStats = (value: unknown): boolean => {
  const stats = value as Record<string, unknown> | null;
  const isTime = (time: unknown) => time === undefined || (isString(time) && !Number.isNaN(Date.parse(time)));
  return (
    typeof stats === "object" &&
    stats !== null &&
    isCount(stats.keys) &&
    isCount(stats.maxRowsPerKey) &&
    typeof stats.rowWeightedRowsPerKey === "number" &&
    stats.rowWeightedRowsPerKey >= 0 &&
    isTime(stats.firstTime) &&
    isTime(stats.lastTime)
  );
};

/** What each known field of a metadata document must be; fields not listed (added later) may be anything. */
const FIELD_RULES: ReadonlyArray<[field: string, required: boolean, check: (value: unknown) => boolean, expected: string]> = [
  ["name", true, isString, "a string"],
  ["definitions", true, isString, "a string"],
  ["description", false, isString, "a string"],
  ["tags", true, isStrings, "an array of strings"],
  ["keys", true, isStrings, "an array of strings"],
  ["timestamp", false, isString, "a string"],
  ["source", true, isString, "a string"],
  ["sourceFiles", true, (value) => Array.isArray(value) && value.every(isSourceFile), "an array of files with path, size and modifiedMs or version"],
  ["schema", true, (value) => Array.isArray(value) && value.every(isColumn), "an array of columns with name and type"],
  ["rows", true, isCount, "a whole number of 0 or more"],
  ["bytes", true, isCount, "a whole number of 0 or more"],
  ["fingerprint", true, isString, "a string"],
  ["buildId", true, isString, "a string"],
  ["builtAt", true, isTime, "an ISO 8601 time"],
  ["durationMs", true, (value) => typeof value === "number" && Number.isFinite(value) && value >= 0, "a number of 0 or more"],
  ["dataEtag", false, isString, "a string"],
  ["rollback", false, isRollbackRecord, "an object with restoredBuildId, replacedBuildId and rolledBackAt"],
  ["keyStats", false, isKeyStats, "an object with keys, maxRowsPerKey and rowWeightedRowsPerKey (numbers)"],
];

/** A metadata document read from a store: the document when it has the right shape, else what is wrong with it. */
export type MetadataDocument = { metadata: FeatureMetadata; problem?: undefined } | { metadata?: undefined; problem: string };

/**
 * Reads a metadata document and checks its shape: every known field of the right type (fields it
 * does not know are fine: the format only grows). Undefined when there is no document.
 */
export function checkMetadata(document: string | undefined): MetadataDocument | undefined {
  if (document === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return { problem: "it is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { problem: `it is ${describeJson(parsed)}, not an object` };
  const fields = parsed as Record<string, unknown>;
  if (!isKnownFormat(fields.formatVersion)) return { problem: `formatVersion is ${describeJson(fields.formatVersion)}, not 1 or later` };
  for (const [field, required, check, expected] of FIELD_RULES) {
    const value = fields[field];
    if (value === undefined && !required) continue;
    if (value === undefined) return { problem: `it has no ${field}` };
    if (!check(value)) return { problem: `${field} is ${describeJson(value)}, not ${expected}` };
  }
  return { metadata: parsed as FeatureMetadata };
}

/** Parses a metadata document; undefined when it is missing or not one of the right shape (a rebuild replaces it). */
export function parseMetadata(document: string | undefined): FeatureMetadata | undefined {
  return checkMetadata(document)?.metadata;
}

/** Parses the footer document of a data file; undefined when the file has none (not built by this version of mlforge). */
export function parseFooter(document: string | undefined): FeatureFooter | undefined {
  if (document === undefined) return undefined;
  try {
    const parsed = JSON.parse(document) as Partial<FeatureFooter>;
    return isKnownFormat(parsed.formatVersion) && typeof parsed.fingerprint === "string" && typeof parsed.buildId === "string" && typeof parsed.name === "string"
      ? (parsed as FeatureFooter)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Serialises a metadata document, stable and readable. */
export function serializeMetadata(metadata: FeatureMetadata): string {
  return `${JSON.stringify(metadata, null, 2)}\n`;
}

/** What a data file says about itself besides its footer document. */
export interface StoredFileFacts {
  /** Columns and DuckDB types, from the Parquet schema. */
  schema: Column[];
  /** Rows, from the Parquet footer. */
  rows: number;
  /** Size of the file. */
  bytes: number;
}

/**
 * The metadata of a built feature, made from its footer document and what its data file says. The
 * build that wrote the file passes when it finished and how long it took; metadata rebuilt later
 * from a file takes the footer's time and a duration of 0.
 */
export function metadataFromFooter(footer: FeatureFooter, file: StoredFileFacts, build?: { builtAt: string; durationMs: number }): FeatureMetadata {
  return {
    formatVersion: 1,
    name: footer.name,
    definitions: footer.definitions,
    ...(footer.description === undefined ? {} : { description: footer.description }),
    tags: footer.tags,
    keys: footer.keys,
    ...(footer.timestamp === undefined ? {} : { timestamp: footer.timestamp }),
    source: footer.source,
    sourceFiles: footer.sourceFiles,
    schema: file.schema,
    rows: file.rows,
    bytes: file.bytes,
    fingerprint: footer.fingerprint,
    buildId: footer.buildId,
    builtAt: build?.builtAt ?? footer.builtAt,
    durationMs: build?.durationMs ?? 0,
  };
}
