import type { Column } from "../engine";
import { FeatureDefinitionError } from "../errors";

/** The kinds of key online serving (and training data's joins) match values by. */
export type KeyKind = "integer" | "string" | "boolean";

const integerTypes = new Set(["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"]);

/** The kind of a key column of DuckDB type `type`, or undefined for a type that is not matched by this rule. */
export function keyKind(type: string): KeyKind | undefined {
  if (integerTypes.has(type)) return "integer";
  if (type === "VARCHAR" || type === "UUID" || type.startsWith("ENUM(")) return "string";
  if (type === "BOOLEAN") return "boolean";
  return undefined;
}

const expected: Record<KeyKind, string> = {
  integer: 'an integer or a string of one, such as 42 or "42"',
  string: 'a string, such as "user_00042"',
  boolean: 'true or false (or the string "true" or "false")',
};

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}

/** The strings that are an integer key: decimal digits, optionally after a minus sign ("042" is 42). */
export const INTEGER_KEY_TEXT = /^-?\d+$/;

/** The canonical string of one key value of `kind`, or undefined when the value is not of that kind. */
function encodePart(kind: KeyKind, value: unknown): string | undefined {
  switch (kind) {
    case "integer":
      if (typeof value === "number") return Number.isSafeInteger(value) ? String(value) : undefined;
      if (typeof value === "bigint") return String(value);
      // Canonical decimal: "042" and "-0" find the rows DuckDB stores as 42 and 0.
      if (typeof value === "string" && INTEGER_KEY_TEXT.test(value)) return String(BigInt(value));
      return undefined;
    case "string":
      return typeof value === "string" ? value : undefined;
    case "boolean":
      if (typeof value === "boolean") return String(value);
      return value === "true" || value === "false" ? value : undefined;
  }
}

/**
 * Turns a feature's key values into the one string an online store keys its rows by, from the key
 * columns' DuckDB types: sync and read encode the same way, so `{ user_id: 42 }` and
 * `{ user_id: "42" }` find the row of an INTEGER key 42.
 */
export class KeyEncoder {
  private readonly kinds: KeyKind[];

  /** Throws `FeatureDefinitionError` for a key column of a type online serving cannot key by. */
  constructor(
    /** The feature, for messages. */
    readonly feature: string,
    /** The key columns with their DuckDB types, in key order. */
    readonly keys: readonly Column[],
  ) {
    this.kinds = keys.map((column) => {
      const kind = keyKind(column.type);
      if (kind === undefined) {
        throw new FeatureDefinitionError(
          `Feature '${feature}' has key column '${column.name}' of type ${column.type}, which online serving cannot key by. ` +
            `Cast it to VARCHAR or an integer type in the feature's SQL.`,
        );
      }
      return kind;
    });
  }

  /** The key of one row of the stored feature (values as `toJavaScript` gives them); undefined when a key is null. */
  encodeRow(row: Readonly<Record<string, unknown>>): string | undefined {
    const parts: string[] = [];
    for (const [index, column] of this.keys.entries()) {
      const value = row[column.name];
      if (value === null || value === undefined) return undefined;
      const part = encodePart(this.kinds[index]!, value);
      if (part === undefined) throw new FeatureDefinitionError(`Feature '${this.feature}' holds key ${describe(value)} in column '${column.name}' of type ${column.type}.`);
      parts.push(part);
    }
    return this.join(parts);
  }

  /**
   * `encodeRow` for row `row` of a chunk given by columns: `columns[index]` holds the values of
   * key column `index` (as `toJavaScript` gives them, or a `bigint` for a 64-bit integer).
   */
  encodeColumns(columns: ReadonlyArray<ReadonlyArray<unknown>>, row: number): string | undefined {
    if (columns.length === 1) {
      const value = columns[0]![row];
      if (typeof value === "string" && this.kinds[0] === "string") return value;
      if (value === null || value === undefined) return undefined;
      return this.part(0, value);
    }
    const parts: string[] = [];
    for (let index = 0; index < columns.length; index++) {
      const value = columns[index]![row];
      if (value === null || value === undefined) return undefined;
      parts.push(this.part(index, value));
    }
    return this.join(parts);
  }

  private part(index: number, value: unknown): string {
    const column = this.keys[index]!;
    const part = encodePart(this.kinds[index]!, value);
    if (part === undefined) throw new FeatureDefinitionError(`Feature '${this.feature}' holds key ${describe(value)} in column '${column.name}' of type ${column.type}.`);
    return part;
  }

  /** The key of entity number `index` (0-based) as a user gave it; throws `FeatureDefinitionError` naming the column and the type it needs. */
  encodeEntity(entity: Readonly<Record<string, unknown>>, index: number): string {
    const parts = this.keys.map((column, position) => {
      if (!Object.hasOwn(entity, column.name) || entity[column.name] === undefined) {
        throw new FeatureDefinitionError(`Entity ${index} has no '${column.name}', a key of feature '${this.feature}' (${column.type}). Give every entity ${this.keys.map((key) => `'${key.name}'`).join(" and ")}.`);
      }
      const value = entity[column.name];
      const kind = this.kinds[position]!;
      const part = encodePart(kind, value);
      if (part === undefined) {
        throw new FeatureDefinitionError(
          `Entity ${index} has ${column.name} = ${describe(value)}, but key column '${column.name}' of feature '${this.feature}' is ${column.type}: pass ${expected[kind]}.`,
        );
      }
      return part;
    });
    return this.join(parts);
  }

  private join(parts: string[]): string {
    // One key column: its value as is. Several: a JSON array, which no two different tuples share.
    return parts.length === 1 ? parts[0]! : JSON.stringify(parts);
  }
}
