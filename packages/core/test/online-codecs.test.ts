import { FeatureDefinitionError, KeyEncoder, decodeValues, encodeValues, feature, parseDuration } from "@mlforge/core";
import { Engine } from "../src/engine";
import { toJavaScript } from "../src/value-decoder";

describe("parseDuration", () => {
  test.each([
    ["30s", 30_000],
    ["15m", 900_000],
    ["12h", 43_200_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
    [1500, 1500],
  ])("%p is %p ms", (input, expected) => {
    expect(parseDuration(input, "x")).toBe(expected);
  });

  test.each(["7", "7days", "-1d", "1.5h", "", "0s", "d"] as const)("%p is refused, naming the option and the accepted forms", (input) => {
    expect(() => parseDuration(input, "Feature 'f' option 'onlineTtl'")).toThrow(/Feature 'f' option 'onlineTtl' is ".*", which is not a duration\. Use .*"7d"/);
  });

  test.each([0, -5, 1.5, Number.NaN, null, true])("%p is refused", (input) => {
    expect(() => parseDuration(input, "ttl")).toThrow(FeatureDefinitionError);
  });

  test("feature() takes onlineTtl only with a timestamp", () => {
    const base = { keys: ["user_id"], source: "data.parquet" };
    expect(feature({ ...base, name: "a", timestamp: "day", onlineTtl: "7d" }, () => "SELECT 1").onlineTtl).toBe(604_800_000);
    expect(() => feature({ ...base, name: "b", onlineTtl: "7d" }, () => "SELECT 1")).toThrow(/'b' has an onlineTtl but no timestamp/);
    expect(() => feature({ ...base, name: "c", timestamp: "day", onlineTtl: "soon" as never }, () => "SELECT 1")).toThrow(/'c' option 'onlineTtl' is "soon"/);
  });
});

describe("KeyEncoder", () => {
  const integer = new KeyEncoder("spend", [{ name: "user_id", type: "BIGINT" }]);

  test("integers, bigints and strings of integers encode to one canonical decimal", () => {
    const keys = [42, "42", 42n, "042"].map((value, index) => integer.encodeEntity({ user_id: value }, index));
    expect(new Set(keys)).toEqual(new Set(["42"]));
    expect(integer.encodeEntity({ user_id: "-7" }, 0)).toBe("-7");
    expect(integer.encodeEntity({ user_id: "9007199254740993" }, 0)).toBe("9007199254740993");
    expect(integer.encodeRow({ user_id: 9007199254740993n })).toBe("9007199254740993");
    expect(integer.encodeRow({ user_id: 42 })).toBe("42");
  });

  test.each([["abc"], [1.5], [true], [{}], [[1]], [null], ["4 2"], [2 ** 60]])("%p for a BIGINT key is refused, naming the column and the type", (value) => {
    expect(() => integer.encodeEntity({ user_id: value }, 3)).toThrow(/Entity 3 has user_id = .*key column 'user_id' of feature 'spend' is BIGINT: pass an integer/);
  });

  test("a missing key column is named", () => {
    expect(() => integer.encodeEntity({}, 0)).toThrow(/Entity 0 has no 'user_id', a key of feature 'spend' \(BIGINT\)/);
  });

  test("VARCHAR keys take strings only; composite keys do not collide", () => {
    const composite = new KeyEncoder("c", [
      { name: "user_id", type: "VARCHAR" },
      { name: "country", type: "VARCHAR" },
    ]);
    expect(() => composite.encodeEntity({ user_id: 42, country: "DE" }, 0)).toThrow(/is VARCHAR: pass a string/);
    const a = composite.encodeEntity({ user_id: 'a","b', country: "c" }, 0);
    const b = composite.encodeEntity({ user_id: "a", country: 'b","c' }, 0);
    expect(a).not.toBe(b);
    expect(composite.encodeRow({ user_id: "u1", country: "DE" })).toBe(composite.encodeEntity({ country: "DE", user_id: "u1" }, 0));
    expect(composite.encodeRow({ user_id: "u1", country: null })).toBeUndefined();
  });

  test("a key type online serving cannot key by is a definition error", () => {
    expect(() => new KeyEncoder("f", [{ name: "day", type: "DATE" }])).toThrow(/key column 'day' of type DATE.*Cast it to VARCHAR or an integer/);
  });
});

describe("value codec", () => {
  test("every value DuckDB gives decodes to what FeatureFrame.rows() gives, in batches", async () => {
    const engine = await Engine.open();
    try {
      const sql = `SELECT i::INTEGER AS i, (9007199254740993 + i)::BIGINT AS big, 12.345::DECIMAL(10,3) AS dec, 1.5::DOUBLE AS dbl,
          'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, '-0.0'::DOUBLE AS negzero, 'héllo 🌍 "q" \\n' AS text, true AS bool,
          DATE '2025-03-04' AS day, TIMESTAMP '2025-03-04 05:06:07.123' AS ts, TIMESTAMPTZ '2025-03-04 05:06:07+02' AS tstz,
          [1, 2, NULL] AS list, {'o': 1, '$b': 'x', '__proto__': 2, 'with space': [DATE '2025-01-01']} AS odd,
          NULL::VARCHAR AS missing, '\\xAA\\x00'::BLOB AS bytes, [{'b': 'y'}] AS structs
        FROM range(3000) t(i)`;
      const expected = await engine.convertedRows(sql, toJavaScript);
      const decoded: Record<string, unknown>[] = [];
      const batchSizes: number[] = [];
      for await (const batch of engine.batches(sql, toJavaScript, 1000)) {
        batchSizes.push(batch.length);
        for (const row of batch) {
          const columns = Object.keys(row);
          const values = decodeValues(encodeValues(columns.map((name) => row[name]!)));
          decoded.push(Object.fromEntries(columns.map((name, index) => [name, values[index]])));
        }
      }
      expect(batchSizes).toEqual([1000, 1000, 1000]);
      expect(decoded).toEqual(expected);
      expect(Object.is(decoded[0]!.negzero, -0)).toBe(true);
      expect(typeof decoded[0]!.big).toBe("bigint");
      expect(decoded[0]!.tstz).toEqual(new Date("2025-03-04T03:06:07Z"));
      // DuckDB itself turns a `__proto__` field into a prototype; equality with rows() above is what counts.
      expect(Object.keys(decoded[0]!.odd as object)).toEqual(["o", "$b", "with space"]);
    } finally {
      engine.close();
    }
  });
});
