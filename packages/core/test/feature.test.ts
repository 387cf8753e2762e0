import { feature, FeatureDefinitionError, isFeature, MlforgeError } from "@mlforge/core";

const transform = (source: string) => `SELECT user_id, sum(amount) AS total FROM ${source} GROUP BY user_id`;

describe("feature()", () => {
  test("takes its name from the options, or from a named transform", () => {
    expect(feature({ name: "user_total", keys: ["user_id"], source: "t.parquet" }, transform).name).toBe("user_total");
    function user_spend(source: string) {
      return `SELECT * FROM ${source}`;
    }
    const named = feature({ keys: ["user_id"], source: "t.csv" }, user_spend);
    expect(named.name).toBe("user_spend");
    expect(isFeature(named)).toBe(true);
    expect(named.tags).toEqual([]);
  });

  test.each([
    ["no name", { keys: ["user_id"], source: "t.parquet" }, /has no name/],
    ["a path as a name", { name: "../x", keys: ["user_id"], source: "t.parquet" }, /'\.\.\/x' is invalid/],
    ["a name with a space", { name: "a b", keys: ["user_id"], source: "t.parquet" }, /'a b' is invalid/],
    ["a name starting with a digit", { name: "1x", keys: ["user_id"], source: "t.parquet" }, /'1x' is invalid/],
    ["empty keys", { name: "x", keys: [], source: "t.parquet" }, /Feature 'x' has no keys/],
    ["a repeated key", { name: "x", keys: ["a", "a"], source: "t.parquet" }, /lists keys column 'a' twice/],
    ["empty source", { name: "x", keys: ["a"], source: " " }, /Feature 'x' has no source/],
    ["an unknown source format", { name: "x", keys: ["a"], source: "t.xlsx" }, /unknown format/],
    ["the timestamp as a key", { name: "x", keys: ["a"], source: "t.csv", timestamp: "a" }, /both as a key and as the timestamp/],
    ["an unknown option", { name: "x", keys: ["a"], source: "t.csv", key: "a" }, /unknown option 'key'/],
  ])("rejects %s with FeatureDefinitionError", (_label, options, message) => {
    const attempt = () => feature(options as never, (source: string) => `SELECT * FROM ${source}`);
    expect(attempt).toThrow(FeatureDefinitionError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect(MlforgeError.isInstance(error)).toBe(true);
    }
  });

  test("accepts a URI prefix as a source, whose objects' format is known when listed", () => {
    expect(feature({ name: "x", keys: ["a"], source: "s3://bucket/events/" }, transform).source).toBe("s3://bucket/events/");
    expect(() => feature({ name: "x", keys: ["a"], source: "data/events/" }, transform)).toThrow(/unknown format/);
  });

  test("rejects a missing transform", () => {
    expect(() => feature({ name: "x", keys: ["a"], source: "t.csv" }, undefined as never)).toThrow(/has no transform/);
  });
});

describe("MlforgeError.isInstance", () => {
  test("recognises errors by marker, not by class identity", () => {
    class ForeignCopy extends Error {}
    const foreign = Object.assign(new ForeignCopy("from another copy"), { [Symbol.for("mlforge.error")]: true });
    expect(MlforgeError.isInstance(foreign)).toBe(true);
    expect(MlforgeError.isInstance(new Error("plain"))).toBe(false);
    expect(MlforgeError.isInstance(new FeatureDefinitionError("x"))).toBe(true);
  });
});
