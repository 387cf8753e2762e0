/**
 * A value as JSON carries it: integers beyond 2^53 as strings (JSON numbers would lose digits),
 * dates as ISO 8601, bytes as base64, lists and structs recursively.
 */
export function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === "object") {
    const output: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) output[key] = toJsonValue(item);
    return output;
  }
  return value;
}

/** A row of feature values as JSON carries it (see `toJsonValue`). */
export function toJsonRow(row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const output: Record<string, unknown> = {};
  // defineProperty: a key column named "__proto__" stays a plain field.
  for (const [key, value] of Object.entries(row)) Object.defineProperty(output, key, { value: toJsonValue(value), enumerable: true, writable: true, configurable: true });
  return output;
}
