import { stat } from "node:fs/promises";
import path from "node:path";
import { timestampTZValue } from "@duckdb/node-api";
import type { Column, Engine } from "./engine";
import { SourceNotFoundError, TrainingDataError } from "./errors";
import { errorMessage, firstLine } from "./errors/error-message";
import { readerSql, relativePathsNote, sourceFormat } from "./source";
import { quoteIdentifier, quoteLiteral } from "./sql";
import { quotePath } from "./literal-path";

/**
 * The entity rows of training data: a path to a `.parquet`, `.csv` or `.json` / `.ndjson` file
 * (relative to `process.cwd()`), or an array of row objects whose values are numbers, bigints,
 * strings, booleans, `Date`s or null.
 */
export type Entities = string | ReadonlyArray<Readonly<Record<string, unknown>>>;

/** Entity rows as DuckDB reads them. */
export interface EntityRelation {
  /** A table function call reading the rows in order, such as `read_parquet(['/abs/labels.parquet'])`. */
  relation: string;
  /** Their columns and DuckDB types. */
  columns: Column[];
  /** What they are, for messages: "entities file 'data/labels.csv'" or "entity rows". */
  label: string;
  /** The Parquet file `relation` reads, when it reads one: a pass over the rows can then number them by position in parallel. */
  parquetFile?: string;
}

/** The columns of an entities file, read by DuckDB; throws `SourceNotFoundError` when it is missing. */
export async function describeEntityFile(engine: Engine, file: string, baseDirectory: string): Promise<EntityRelation> {
  const absolute = path.resolve(baseDirectory, file);
  const label = `entities file '${file}'`;
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) {
    throw new SourceNotFoundError(
      file,
      `Entities file '${file}' does not exist (looked for ${absolute}). Check the path; ${relativePathsNote(baseDirectory)}`,
    );
  }
  const format = sourceFormat(file);
  if (format === undefined) {
    throw new TrainingDataError(`Entities file '${file}' has an unknown format. Use a .parquet, .csv, .json or .ndjson file, or pass an array of row objects.`);
  }
  const relation = readerSql(format, [{ path: absolute, size: info.size, modifiedMs: info.mtimeMs }]);
  try {
    return { relation, columns: await engine.columns(`SELECT * FROM ${relation}`), label, ...(format === "parquet" ? { parquetFile: absolute } : {}) };
  } catch (error) {
    if (format === "parquet") {
      throw new TrainingDataError(`Entities file '${file}' is not a readable Parquet file (${firstLine(errorMessage(error))}). Write it again as Parquet, or pass a .csv or .json file.`, {
        cause: error,
      });
    }
    throw new TrainingDataError(`Entities file '${file}' could not be read as ${format}: ${errorMessage(error)}`, { cause: error });
  }
}

/** How a column of row objects is stored; one kind per column. */
type ValueKind = "boolean" | "integer" | "double" | "string" | "date";

/** A column of row objects with the DuckDB type it gets. */
export interface EntityColumn extends Column {
  kind: ValueKind;
}

const duckdbTypes: Record<ValueKind, string> = {
  boolean: "BOOLEAN",
  integer: "BIGINT",
  double: "DOUBLE",
  string: "VARCHAR",
  // A JS Date is an instant, so it is stored as one (written to Parquet as UTC).
  date: "TIMESTAMP WITH TIME ZONE",
};

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

function kindOf(value: unknown): ValueKind | "null" | undefined {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return "boolean";
    case "string":
      return "string";
    case "bigint":
      return value >= int64Min && value <= int64Max ? "integer" : undefined;
    case "number":
      return Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63 ? "integer" : "double";
    default:
      return value instanceof Date && !Number.isNaN(value.getTime()) ? "date" : undefined;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : value.toISOString();
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value === "string" ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

const kindNames: Record<ValueKind, string> = { boolean: "booleans", integer: "numbers", double: "numbers", string: "strings", date: "Dates" };

/** The columns of row objects (every key seen, in first-seen order) and their types; throws `TrainingDataError` on rows it cannot store. */
export function inferEntityColumns(rows: readonly unknown[]): EntityColumn[] {
  if (rows.length === 0) {
    throw new TrainingDataError("The entity rows are an empty array, so they have no columns to join on. Pass at least one row, or a file.");
  }
  const kinds = new Map<string, Set<ValueKind>>();
  for (const [index, row] of rows.entries()) {
    if (typeof row !== "object" || row === null || Array.isArray(row) || row instanceof Date) {
      throw new TrainingDataError(`Entity row ${index} is ${row === null ? "null" : describeValue(row)}, not an object. Pass rows as objects such as { user_id: 1, event_time: new Date() }.`);
    }
    for (const [name, value] of Object.entries(row)) {
      let seen = kinds.get(name);
      if (seen === undefined) {
        if (name.trim() === "") throw new TrainingDataError(`Entity row ${index} has a column with an empty name. Give every column a name.`);
        const same = [...kinds.keys()].find((other) => other.toLowerCase() === name.toLowerCase());
        if (same !== undefined) {
          throw new TrainingDataError(`Entity rows have columns '${same}' and '${name}', which DuckDB treats as the same name (case-insensitive). Rename one.`);
        }
        seen = new Set();
        kinds.set(name, seen);
      }
      const kind = kindOf(value);
      if (kind === undefined) {
        throw new TrainingDataError(
          `Entity row ${index} has ${describeValue(value)} in column '${name}', which cannot be stored. ` +
            "Use numbers, bigints (within 64 bits), strings, booleans, valid Dates or null, or pass a Parquet file.",
        );
      }
      if (kind !== "null") seen.add(kind);
    }
  }
  return [...kinds].map(([name, seen]) => {
    if (seen.has("double")) seen.delete("integer");
    if (seen.size > 1) {
      const names = [...new Set([...seen].map((kind) => kindNames[kind]))];
      throw new TrainingDataError(`Entity column '${name}' mixes ${names.join(" and ")}. Use one type per column (for timestamps: all Dates or all ISO 8601 strings).`);
    }
    // A column of nulls only: VARCHAR is what DuckDB's readers use for untyped data.
    const kind = seen.values().next().value ?? "string";
    return { name, type: duckdbTypes[kind], kind };
  });
}

/**
 * Writes row objects to a Parquet file through DuckDB's Appender: values go to DuckDB typed,
 * without a text round trip (bigints stay exact; Dates become TIMESTAMPTZ at millisecond precision).
 * Returns the relation reading it back.
 */
export async function writeEntityRows(
  engine: Engine,
  rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
  columns: readonly EntityColumn[],
  file: string,
): Promise<EntityRelation> {
  const table = quoteIdentifier("mlforge_entities");
  await engine.run(`CREATE TABLE ${table} (${columns.map((column) => `${quoteIdentifier(column.name)} ${column.type}`).join(", ")})`);
  await engine.append("mlforge_entities", (appender) => {
    for (const row of rows) {
      for (const column of columns) {
        const value = row[column.name];
        if (value === null || value === undefined) appender.appendNull();
        else if (column.kind === "boolean") appender.appendBoolean(value as boolean);
        else if (column.kind === "integer") appender.appendBigInt(BigInt(value as number | bigint));
        else if (column.kind === "double") appender.appendDouble(Number(value));
        else if (column.kind === "string") appender.appendVarchar(value as string);
        else appender.appendTimestampTZ(timestampTZValue(BigInt((value as Date).getTime()) * 1000n));
      }
      appender.endRow();
    }
  });
  await engine.run(`COPY ${table} TO ${quoteLiteral(file)} (FORMAT parquet)`);
  await engine.run(`DROP TABLE ${table}`);
  return { relation: `read_parquet(${quotePath(file)})`, columns: columns.map(({ name, type }) => ({ name, type })), label: "entity rows", parquetFile: file };
}
