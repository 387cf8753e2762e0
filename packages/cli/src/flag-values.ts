import type { Shard } from "./shard";
import { UsageError } from "./usage-error";

/** Splits repeated, comma-separated flag values (`--features a,b --features c`) into names. */
export function splitList(flag: string, values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const names = values.flatMap((value) => value.split(",")).map((name) => name.trim()).filter((name) => name !== "");
  if (names.length === 0) throw new UsageError(`--${flag} needs at least one name, for example --${flag} a,b.`);
  return names;
}

/** Parses `--rows`: a whole number of at least 0. */
export function parseRowCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim().replaceAll("_", "");
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new UsageError(`--rows needs a whole number of at least 0, got '${value}'. For example --rows 10, or --rows 0 for no sample.`);
  }
  return Number(trimmed);
}

/** Parses `--shard i/n`: whole numbers with 1 <= i <= n. */
export function parseShard(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(
      `--shard needs i/n, the 1-based share i of n shares with 1 <= i <= n, got '${value}'. ` +
        "For example --shard 2/4; from a 0-based index such as JOB_COMPLETION_INDEX pass --shard $((JOB_COMPLETION_INDEX + 1))/4.",
    );
  }
  return { index, count };
}

const entityExample = "--entity user_id=u1 (composite keys: --entity user_id=u1,country=DE)";

/** Parses repeated `--entity column=value[,column=value…]` into one key object per flag; values stay strings. */
export function parseEntities(values: readonly string[] | undefined): Array<Record<string, string>> | undefined {
  if (values === undefined) return undefined;
  return values.map((given) => {
    const entity: Record<string, string> = {};
    for (const pair of given.split(",")) {
      const equals = pair.indexOf("=");
      const column = equals === -1 ? "" : pair.slice(0, equals).trim();
      if (column === "") throw new UsageError(`--entity '${given}' needs column=value pairs, for example ${entityExample}.`);
      const value = pair.slice(equals + 1).trim();
      if (value === "") throw new UsageError(`--entity '${given}' gives column '${column}' no value, for example ${entityExample}.`);
      if (Object.hasOwn(entity, column)) {
        throw new UsageError(`--entity '${given}' gives column '${column}' twice. Give one --entity per entity, for example --entity ${column}=u1 --entity ${column}=u2.`);
      }
      // Defined, not assigned: a column called __proto__ is a column like any other.
      Object.defineProperty(entity, column, { value, enumerable: true, writable: true, configurable: true });
    }
    return entity;
  });
}

/** Splits `get`'s positional `a,b.column` into selections; throws `UsageError` when it names none. */
export function splitSelections(value: string | undefined): string[] {
  const names = (value ?? "").split(",").map((name) => name.trim()).filter((name) => name !== "");
  if (names.length === 0) throw new UsageError("get needs features, for example `mlforge get user_total_spend,user_spend_7d.spend_7d --entity user_id=u1`.");
  return names;
}
