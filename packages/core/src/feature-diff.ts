import type { Column, Engine } from "./engine";
import { FeatureNotBuiltError, PreviousVersionNotFoundError } from "./errors";
import { isNumericType } from "./feature-stats";
import { quotePath } from "./literal-path";
import type { OfflineStore } from "./offline-store";
import { quoteIdentifier } from "./sql";
import { openStoredFeatures, type StoredFeature } from "./stored-feature";
import { listVersions, type FeatureVersion } from "./versions";

/** Options of `Definitions.diff()`: the two builds to compare, each a build id from `versions(name)`, `"previous"` or `"current"`. */
export interface FeatureDiffOptions {
  /** The older side. `"previous"` is the newest kept build before the current one. @default "previous" */
  from?: string;
  /** The newer side. @default "current" */
  to?: string;
}

/** A column whose DuckDB type differs between the two builds. */
export interface RetypedColumn {
  name: string;
  /** Its type in the `from` build. */
  from: string;
  /** Its type in the `to` build. */
  to: string;
}

/** A number in the `from` and the `to` build, and `to - from`; null on a side that does not have it. */
export interface ValueChange {
  from: number | null;
  to: number | null;
  /** `to - from`; null when either side is null. */
  delta: number | null;
}

/** How one numeric column changed between the two builds. */
export interface NumericColumnDiff {
  name: string;
  /** The mean of its finite values (NaN and ±Infinity left out); null where the build lacks the column, it is not numeric there, or it has no finite value. */
  mean: ValueChange;
  /** Rows whose value is NULL; null where the build lacks the column. */
  nullCount: ValueChange;
}

/** How two builds of a feature differ: their schemas, their rows matched by identity, and their numeric columns. See `Definitions.diff()`. */
export interface FeatureDiff {
  /** The feature. */
  name: string;
  /** The older side, as `versions(name)` describes it (`rows` counted in its data). */
  from: FeatureVersion;
  /** The newer side. */
  to: FeatureVersion;
  /** The key columns that rows and keys are matched by (the `to` build's). */
  keys: string[];
  /** The timestamp column, for a feature with one: its rows are then identified by (keys, timestamp). */
  timestamp: string | null;
  /** Columns only in `to` (added), only in `from` (removed), and in both with another type (retyped), in schema order. */
  columns: { added: Column[]; removed: Column[]; retyped: RetypedColumn[] };
  /**
   * Rows only in `to` (added), only in `from` (removed), and in both with another value in a column
   * both builds have with the same type (changed). Null when a key or timestamp column is missing
   * from one build, so that rows cannot be matched.
   */
  rows: { added: number; removed: number; changed: number } | null;
  /** Distinct key values only in `to` (added) and only in `from` (removed); null when rows cannot be matched. Without a timestamp they equal the rows added and removed. */
  keyValues: { added: number; removed: number } | null;
  /** Every column that is numeric in at least one build, other than the keys, in schema order. */
  numeric: NumericColumnDiff[];
}

/** The identity to fall back on when a build's metadata does not say (a file written without mlforge's footer). */
export interface FeatureIdentity {
  keys: readonly string[];
  timestamp?: string | undefined;
}

/** What `diffFeature` needs besides the store and the options. */
export interface DiffContext {
  /** The feature's keys and timestamp as defined, for a build whose metadata does not say. */
  identity: FeatureIdentity;
  /** The definitions' `keepVersions`, for the advice when there is nothing to compare with. */
  keepVersions: number;
}

/** One side of a diff once opened: its stored file, its schema and its version. */
interface DiffSide {
  stored: StoredFeature;
  schema: Column[];
  version: FeatureVersion;
}

/** Resolves "previous", "current" or a build id against the kept versions (newest first); a build id is checked when it is opened. */
function resolveVersion(name: string, selector: string, versions: readonly FeatureVersion[], location: string, keepVersions: number): string {
  if (selector !== "current" && selector !== "previous") return selector;
  const index = versions.findIndex((version) => version.current);
  // Kept versions without current data: the feature's data file was removed.
  if (index === -1) throw new FeatureNotBuiltError([name], location);
  if (selector === "current") return versions[index]!.buildId;
  const previous = versions[index + 1];
  if (previous === undefined) {
    throw new PreviousVersionNotFoundError(
      name,
      versions[index]!.buildId,
      versions.map((version) => version.buildId),
      keepVersions,
    );
  }
  return previous.buildId;
}

function count(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function change(from: number | null, to: number | null): ValueChange {
  return { from, to, delta: from === null || to === null ? null : to - from };
}

async function openSide(engine: Engine, stored: StoredFeature, versions: readonly FeatureVersion[], buildId: string): Promise<DiffSide> {
  const schema = stored.metadata?.schema ?? (await engine.columns(`SELECT * FROM read_parquet(${quotePath(stored.path)})`));
  const listed = versions.find((version) => version.buildId === buildId);
  const metadata = stored.metadata;
  const version: FeatureVersion = listed ?? {
    buildId,
    builtAt: metadata?.builtAt ?? "",
    rows: metadata?.rows ?? 0,
    bytes: metadata?.bytes ?? 0,
    fingerprint: metadata?.fingerprint ?? "",
    current: false,
  };
  return { stored, schema, version: { ...version } };
}

/**
 * Row count, null counts and means of one build in one scan of its file. `numeric` are the columns
 * numeric in this build; `present` every column of the diff this build has.
 */
async function summarize(engine: Engine, side: DiffSide, present: readonly string[], numeric: ReadonlySet<string>): Promise<{ rows: number; nulls: Map<string, number>; means: Map<string, number | null> }> {
  const parts = ["count(*)::BIGINT AS mlforge_rows"];
  for (const [index, name] of present.entries()) {
    const column = quoteIdentifier(name);
    parts.push(`(count(*) - count(${column}))::BIGINT AS ${quoteIdentifier(`n${index}`)}`);
    // Finite values only: one NaN or Infinity would make the mean say nothing (and JSON cannot hold it).
    if (numeric.has(name)) parts.push(`avg(${column}::DOUBLE) FILTER (WHERE isfinite(${column}::DOUBLE)) AS ${quoteIdentifier(`m${index}`)}`);
  }
  const [row] = await engine.rows(`SELECT ${parts.join(", ")} FROM read_parquet(${quotePath(side.stored.path)})`);
  const nulls = new Map<string, number>();
  const means = new Map<string, number | null>();
  for (const [index, name] of present.entries()) {
    nulls.set(name, count(row?.[`n${index}`]));
    if (numeric.has(name)) {
      const mean = row?.[`m${index}`];
      means.set(name, typeof mean === "number" ? mean : null);
    }
  }
  return { rows: count(row?.mlforge_rows), nulls, means };
}

/**
 * Rows added, removed and changed, in one full outer join of the two files on the identity
 * columns, inside DuckDB (no row reaches JavaScript). An identity column whose type differs is
 * compared as text, so that `1` (INTEGER) and `1` (BIGINT or VARCHAR) are the same key.
 */
async function compareRows(engine: Engine, from: DiffSide, to: DiffSide, identity: readonly string[], compared: readonly string[]): Promise<{ added: number; removed: number; changed: number }> {
  const typeIn = (side: DiffSide, name: string) => side.schema.find((column) => column.name === name)?.type;
  const key = (name: string, alias: string) => {
    const column = `${alias}.${quoteIdentifier(name)}`;
    return typeIn(from, name) === typeIn(to, name) ? column : `${column}::VARCHAR`;
  };
  const on = identity.map((name) => `${key(name, "t")} IS NOT DISTINCT FROM ${key(name, "f")}`).join(" AND ");
  const values = (alias: string) => `row(${compared.map((name) => `${alias}.${quoteIdentifier(name)}`).join(", ")})`;
  const changed = compared.length === 0 ? "0" : `count(*) FILTER (WHERE t.mlforge_present AND f.mlforge_present AND ${values("t")} IS DISTINCT FROM ${values("f")})`;
  const columns = [...identity, ...compared].map(quoteIdentifier).join(", ");
  const [row] = await engine.rows(
    `SELECT count(*) FILTER (WHERE f.mlforge_present IS NULL)::BIGINT AS added, count(*) FILTER (WHERE t.mlforge_present IS NULL)::BIGINT AS removed, ${changed}::BIGINT AS changed ` +
      `FROM (SELECT ${columns}, true AS mlforge_present FROM read_parquet(${quotePath(to.stored.path)})) t ` +
      `FULL OUTER JOIN (SELECT ${columns}, true AS mlforge_present FROM read_parquet(${quotePath(from.stored.path)})) f ON ${on}`,
  );
  return { added: count(row?.added), removed: count(row?.removed), changed: count(row?.changed) };
}

/** Distinct key values only in `to` and only in `from`: set differences inside DuckDB. */
async function compareKeys(engine: Engine, from: DiffSide, to: DiffSide, keys: readonly string[]): Promise<{ added: number; removed: number }> {
  const typeIn = (side: DiffSide, name: string) => side.schema.find((column) => column.name === name)?.type;
  const select = (side: DiffSide) =>
    `SELECT ${keys.map((name) => (typeIn(from, name) === typeIn(to, name) ? quoteIdentifier(name) : `${quoteIdentifier(name)}::VARCHAR`)).join(", ")} FROM read_parquet(${quotePath(side.stored.path)})`;
  const [row] = await engine.rows(
    `SELECT (SELECT count(*) FROM (${select(to)} EXCEPT ${select(from)}))::BIGINT AS added, (SELECT count(*) FROM (${select(from)} EXCEPT ${select(to)}))::BIGINT AS removed`,
  );
  return { added: count(row?.added), removed: count(row?.removed) };
}

/**
 * Compares two opened builds of a feature inside one engine: schemas, rows and keys by identity
 * (set operations and one join in DuckDB), and per numeric column the mean and null count.
 */
export async function diffStoredFeatures(engine: Engine, from: DiffSide, to: DiffSide, fallback: FeatureIdentity): Promise<FeatureDiff> {
  const identity = to.stored.metadata ?? from.stored.metadata ?? fallback;
  const keys = [...identity.keys];
  const timestamp = identity.timestamp ?? null;
  const fromTypes = new Map(from.schema.map((column) => [column.name, column.type]));
  const toTypes = new Map(to.schema.map((column) => [column.name, column.type]));

  const columns: FeatureDiff["columns"] = {
    added: to.schema.filter((column) => !fromTypes.has(column.name)).map((column) => ({ ...column })),
    removed: from.schema.filter((column) => !toTypes.has(column.name)).map((column) => ({ ...column })),
    retyped: to.schema.filter((column) => fromTypes.has(column.name) && fromTypes.get(column.name) !== column.type).map((column) => ({ name: column.name, from: fromTypes.get(column.name)!, to: column.type })),
  };

  const matchedBy = timestamp === null ? keys : [...keys, timestamp];
  const names = [...to.schema.map((column) => column.name), ...from.schema.map((column) => column.name).filter((name) => !toTypes.has(name))];
  const numericNames = names.filter((name) => !keys.includes(name) && [fromTypes.get(name), toTypes.get(name)].some((type) => type !== undefined && isNumericType(type)));
  const numericIn = (types: Map<string, string>) => new Set(numericNames.filter((name) => isNumericType(types.get(name) ?? "")));
  const [fromSummary, toSummary] = [
    await summarize(engine, from, numericNames.filter((name) => fromTypes.has(name)), numericIn(fromTypes)),
    await summarize(engine, to, numericNames.filter((name) => toTypes.has(name)), numericIn(toTypes)),
  ];
  const numeric = numericNames.map((name) => ({
    name,
    mean: change(fromSummary.means.get(name) ?? null, toSummary.means.get(name) ?? null),
    nullCount: change(fromSummary.nulls.get(name) ?? null, toSummary.nulls.get(name) ?? null),
  }));

  let rows: FeatureDiff["rows"] = null;
  let keyValues: FeatureDiff["keyValues"] = null;
  if (matchedBy.every((name) => fromTypes.has(name) && toTypes.has(name))) {
    const compared = to.schema.filter((column) => !matchedBy.includes(column.name) && fromTypes.get(column.name) === column.type).map((column) => column.name);
    rows = await compareRows(engine, from, to, matchedBy, compared);
    // Without a timestamp a row is its keys (a build has one row per key): the same counts.
    keyValues = timestamp === null ? { added: rows.added, removed: rows.removed } : await compareKeys(engine, from, to, keys);
  }

  return {
    name: to.stored.name,
    from: { ...from.version, rows: fromSummary.rows },
    to: { ...to.version, rows: toSummary.rows },
    keys,
    timestamp,
    columns,
    rows,
    keyValues,
    numeric,
  };
}

/**
 * Compares two builds of feature `name` kept in `store` (default: the previous one and the
 * current one). Throws `FeatureNotBuiltError` when it was never built, `PreviousVersionNotFoundError`
 * when "previous" is asked for and no older version is kept, and `FeatureVersionNotFoundError`,
 * listing the kept versions, for a build id the store does not keep.
 */
export async function diffFeature(engine: Engine, store: OfflineStore, name: string, options: FeatureDiffOptions, { identity, keepVersions }: DiffContext): Promise<FeatureDiff> {
  const versions = await listVersions(engine, store, name);
  if (versions.length === 0) throw new FeatureNotBuiltError([name], store.location);
  const fromId = resolveVersion(name, options.from ?? "previous", versions, store.location, keepVersions);
  const toId = resolveVersion(name, options.to ?? "current", versions, store.location, keepVersions);
  const [fromStored, toStored] = await openStoredFeatures(engine, store, [
    { name, version: fromId },
    { name, version: toId },
  ]);
  const from = await openSide(engine, fromStored!, versions, fromId);
  const to = await openSide(engine, toStored!, versions, toId);
  return diffStoredFeatures(engine, from, to, identity);
}
