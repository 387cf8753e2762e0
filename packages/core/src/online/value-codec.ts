import type { JS } from "@duckdb/node-api";

/**
 * Values that JSON cannot hold as they are travel as an object with a single tag key; every other
 * object (a STRUCT) is wrapped in `{ "o": … }`, so a struct's field names can be anything, even
 * a tag's name or `__proto__`.
 */
type Encoded = null | boolean | number | string | Encoded[] | { b: string } | { d: number | null } | { n: string } | { u: string } | { o: Record<string, Encoded> };

function encode(value: JS | undefined): Encoded {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "boolean":
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { n: Object.is(value, -0) ? "-0" : String(value) };
    case "bigint":
      return { b: value.toString() };
    default:
      break;
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value instanceof Date) {
    const time = value.getTime();
    return { d: Number.isNaN(time) ? null : time };
  }
  if (value instanceof Uint8Array) return { u: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  const fields: Record<string, Encoded> = {};
  for (const [name, field] of Object.entries(value)) Object.defineProperty(fields, name, { value: encode(field), enumerable: true, writable: true, configurable: true });
  return { o: fields };
}

function decode(value: Encoded): JS {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(decode);
  if ("o" in value) return Object.fromEntries(Object.entries(value.o).map(([name, field]) => [name, decode(field)]));
  if ("b" in value) return BigInt(value.b);
  if ("d" in value) return new Date(value.d ?? Number.NaN);
  if ("n" in value) return value.n === "-0" ? -0 : Number(value.n);
  if ("u" in value) return new Uint8Array(Buffer.from(value.u, "base64"));
  throw new Error(`Unknown encoded value ${JSON.stringify(value)}.`);
}

/** One string holding a row's values, in column order, such that `decodeValues` gives back equal JavaScript values (the types of `FeatureFrame.rows()`). */
export function encodeValues(values: ReadonlyArray<JS | undefined>): string {
  return JSON.stringify(values.map(encode));
}

/** What `encodeValues` puts in its array for `value` before `JSON.stringify`: `JSON.stringify` of an array of these is `encodeValues` of the values. */
export function encodeValue(value: JS | undefined): unknown {
  return encode(value);
}

/** The values `encodeValues` wrote. */
export function decodeValues(text: string): JS[] {
  // In place: the array is fresh from JSON.parse, and most values (numbers, strings) decode to themselves.
  const values = JSON.parse(text) as Array<Encoded | JS>;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value === "object" && value !== null) values[index] = decode(value as Encoded);
  }
  return values as JS[];
}
