import { FeatureDefinitionError } from "./errors";
import { quoteLiteral } from "./sql";

/** What a failing check does: `"error"` fails the feature's build, `"warn"` publishes it and records the failures. */
export type CheckSeverity = "error" | "warn";

/** Options every check takes. */
export interface CheckOptions {
  /** @default "error" */
  severity?: CheckSeverity;
}

/** A literal a check compares with. */
export type CheckValue = number | bigint | string | boolean | Date;

const marker = Symbol.for("mlforge.check");

/** A data check on one column of a feature's output, made by `notNull()`, `between()`, …; run in DuckDB by the build. */
export interface Check {
  /** Such as "between(13, 120)", in messages and results. */
  readonly description: string;
  readonly severity: CheckSeverity;
  /** "unique" is counted apart; the others are a SQL predicate that is true for a failing row. */
  readonly kind: "predicate" | "unique";
  /** The failing-row predicate, given the column's quoted name; NULL (unknown) counts as passing. */
  readonly failing: (column: string) => string;
}

/** The outcome of one check in one build, as stored in the metadata document and returned by builds. */
export interface CheckResult {
  column: string;
  /** The check's description, such as "between(13, 120)". */
  check: string;
  severity: CheckSeverity;
  passed: boolean;
  /** Rows that failed the check. */
  failingRows: number;
  /** Rows checked (the output's rows). */
  rows: number;
}

/** True for a value made by one of the check functions. */
export function isCheck(value: unknown): value is Check {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

function literal(value: CheckValue, label: string): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FeatureDefinitionError(`${label} takes finite numbers; got ${String(value)}.`);
    return String(value);
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return quoteLiteral(value);
  if (value instanceof Date && !Number.isNaN(value.getTime())) return `TIMESTAMP ${quoteLiteral(value.toISOString().replace("T", " ").replace("Z", ""))}`;
  throw new FeatureDefinitionError(`${label} takes numbers, strings, booleans, bigints or Dates; got ${String(value)}.`);
}

function shown(value: CheckValue): string {
  return value instanceof Date ? value.toISOString() : typeof value === "string" ? JSON.stringify(value) : String(value);
}

function severityOf(options: CheckOptions | undefined, label: string): CheckSeverity {
  const severity = options?.severity ?? "error";
  if (severity !== "error" && severity !== "warn") throw new FeatureDefinitionError(`${label} has severity ${JSON.stringify(severity)}. Use "error" or "warn".`);
  return severity;
}

function makeCheck(description: string, options: CheckOptions | undefined, kind: Check["kind"], failing: Check["failing"]): Check {
  const check: Check = { description, severity: severityOf(options, description), kind, failing };
  Object.defineProperty(check, marker, { value: true });
  return Object.freeze(check);
}

function comparison(name: string, operator: string, value: CheckValue, options?: CheckOptions): Check {
  const sql = literal(value, `${name}()`);
  return makeCheck(`${name}(${shown(value)})`, options, "predicate", (column) => `NOT (${column} ${operator} ${sql})`);
}

/** Fails rows whose value is NULL (the only check that NULL fails). */
export function notNull(options?: CheckOptions): Check {
  return makeCheck("notNull()", options, "predicate", (column) => `${column} IS NULL`);
}

/** Fails every row whose value occurs in more than one row (NULLs ignored). */
export function unique(options?: CheckOptions): Check {
  return makeCheck("unique()", options, "unique", () => "false");
}

/** Fails rows whose value is not greater than `value`. */
export function greaterThan(value: CheckValue, options?: CheckOptions): Check {
  return comparison("greaterThan", ">", value, options);
}

/** Fails rows whose value is less than `value`. */
export function atLeast(value: CheckValue, options?: CheckOptions): Check {
  return comparison("atLeast", ">=", value, options);
}

/** Fails rows whose value is not less than `value`. */
export function lessThan(value: CheckValue, options?: CheckOptions): Check {
  return comparison("lessThan", "<", value, options);
}

/** Fails rows whose value is greater than `value`. */
export function atMost(value: CheckValue, options?: CheckOptions): Check {
  return comparison("atMost", "<=", value, options);
}

/** Fails rows whose value is outside `min … max` (both inclusive). */
export function between(min: CheckValue, max: CheckValue, options?: CheckOptions): Check {
  const low = literal(min, "between()");
  const high = literal(max, "between()");
  return makeCheck(`between(${shown(min)}, ${shown(max)})`, options, "predicate", (column) => `NOT (${column} BETWEEN ${low} AND ${high})`);
}

/** Fails rows whose value is not one of `values`. */
export function oneOf(values: readonly CheckValue[], options?: CheckOptions): Check {
  if (!Array.isArray(values) || values.length === 0) throw new FeatureDefinitionError("oneOf() takes a non-empty array of values, for example oneOf([\"DE\", \"FR\"]).");
  const list = values.map((value) => literal(value, "oneOf()")).join(", ");
  return makeCheck(`oneOf([${values.map(shown).join(", ")}])`, options, "predicate", (column) => `${column} NOT IN (${list})`);
}

/** Fails rows whose value does not match `pattern` (DuckDB's regular-expression syntax, RE2; a match anywhere unless anchored). */
export function matches(pattern: string | RegExp, options?: CheckOptions): Check {
  const source = pattern instanceof RegExp ? pattern.source : pattern;
  if (typeof source !== "string" || source === "") throw new FeatureDefinitionError("matches() takes a regular expression, for example matches(\"^[^@]+@[^@]+$\").");
  return makeCheck(`matches(${JSON.stringify(source)})`, options, "predicate", (column) => `NOT regexp_matches(${column}::VARCHAR, ${quoteLiteral(source)})`);
}

/** Fails rows for which the DuckDB boolean expression `sql` (over the output's columns) is false. */
export function expect(sql: string, description: string, options?: CheckOptions): Check {
  if (typeof sql !== "string" || sql.trim() === "") throw new FeatureDefinitionError("expect() takes a SQL boolean expression, for example expect(\"signup_ts <= now()\", \"no sign-ups from the future\").");
  if (typeof description !== "string" || description.trim() === "") throw new FeatureDefinitionError(`expect(${JSON.stringify(sql)}) needs a description, for example expect("signup_ts <= now()", "no sign-ups from the future").`);
  return makeCheck(`expect(${JSON.stringify(description)})`, options, "predicate", () => `NOT (${sql})`);
}

/** Validates `checks` of feature `name`: each entry an array of checks. */
export function parseChecks(name: string, checks: unknown): Readonly<Record<string, readonly Check[]>> {
  if (typeof checks !== "object" || checks === null || Array.isArray(checks)) {
    throw new FeatureDefinitionError(`Feature '${name}' option 'checks' must be an object of column → checks, for example checks: { age: [notNull(), between(13, 120)] }.`);
  }
  const parsed: Record<string, readonly Check[]> = {};
  for (const [column, list] of Object.entries(checks)) {
    if (!Array.isArray(list) || !list.every(isCheck)) {
      throw new FeatureDefinitionError(`Feature '${name}' has invalid checks for '${column}'. Pass an array of checks such as [notNull(), between(0, 100)].`);
    }
    parsed[column] = Object.freeze([...list]);
  }
  return Object.freeze(parsed);
}

