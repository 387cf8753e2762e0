import { DuckDBTypeId, JSDuckDBValueConverter, type DuckDBValueConverter, type JS } from "@duckdb/node-api";

const integerTypes = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.BIGNUM]);
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * DuckDB's JavaScript values, except that 64-bit and wider integers are `number`s when they fit
 * exactly (nested values too). Offline reads (`FeatureFrame.rows()`) and online syncs share it, so
 * both give the same JavaScript types for the same data.
 */
export const toJavaScript: DuckDBValueConverter<JS> = (value, type, converter) => {
  const converted = JSDuckDBValueConverter(value, type, converter);
  if (typeof converted === "bigint" && integerTypes.has(type.typeId) && converted <= maxSafe && converted >= -maxSafe) return Number(converted);
  return converted;
};
