import { DuckDBInstance } from "@duckdb/node-api";

/** Rows of a DuckDB query as plain JavaScript objects, from a fresh in-memory database closed afterwards. */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * `target` with some methods replaced, for fault injection: every other property and method is
 * the target's own (bound to it). `intercept(store, { putText: async () => { throw … } })`.
 */
export function intercept<T extends object>(target: T, overrides: { [K in keyof T]?: T[K] }): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property as keyof T];
      const value = Reflect.get(object, property, object) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/** The feature a store key belongs to: `user_total_spend.parquet` and `_metadata/user_total_spend.json` → `user_total_spend`. */
export function featureOfKey(key: string): string {
  return key.replace(/^_metadata\//, "").replace(/\.(parquet|json)$/, "");
}
