import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, FeatureFrameClosedError, FeatureNotBuiltError, FeatureNotFoundError, type FeatureFrame } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { query } from "@mlforge/test-support";

let directory: string;
let scratch: string;
let defs: Definitions;

const utc = (iso: string) => new Date(`${iso}Z`);

/** Reads a file back with a DuckDB of the test's own, with 64-bit integers as numbers where exact. */
async function readBack(reader: string): Promise<Record<string, unknown>[]> {
  return (await query(`SELECT * FROM ${reader}`)).map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === "bigint" && Number.isSafeInteger(Number(value)) ? Number(value) : value])),
  );
}

async function mlforgeDirectories(): Promise<string[]> {
  return (await readdir(scratch).catch(() => [] as string[])).filter((name) => name.startsWith("mlforge-"));
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-frame-test-"));
  scratch = path.join(directory, "scratch");
  const ids = path.join(directory, "ids.csv");
  await writeFile(ids, "id\n1\n2\n");
  const spend = path.join(directory, "spend.csv");
  await writeFile(spend, "user_id,amount\nu1,10\nu2,7\nu1,25\n");
  defs = new Definitions({
    name: "frame-test",
    offlineStore: new LocalStore(path.join(directory, "store")),
    engine: { tempDirectory: scratch },
    features: [
      feature({ name: "typed", keys: ["id"], source: ids }, (source) => `
        SELECT id,
          id * 21 AS small,
          9007199254740992::BIGINT + id AS big,
          -9007199254740992::BIGINT - id AS big_negative,
          (id * 1.25)::DECIMAL(10, 2) AS price,
          id / 4 AS ratio,
          DATE '2024-01-01' + id::INTEGER AS day,
          TIMESTAMP '2024-01-01 10:00:00' + to_hours(id) AS at,
          TIMESTAMPTZ '2024-01-01 10:00:00+02' AS at_tz,
          'u' || id AS label,
          id = 1 AS first
        FROM ${source} ORDER BY id`),
      feature({ name: "nested", keys: ["id"], source: ids }, (source) => `SELECT id, [id, id + 1]::BIGINT[] AS pair FROM ${source} ORDER BY id`),
      feature({ name: "user_spend", keys: ["user_id"], source: spend }, (source) =>
        `SELECT user_id, sum(amount)::BIGINT AS total FROM ${source} GROUP BY user_id ORDER BY user_id`,
      ),
      feature({ name: "unbuilt", keys: ["id"], source: ids }, (source) => `SELECT id FROM ${source}`),
    ],
  });
  await defs.build({ features: ["typed", "nested", "user_spend"] });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const typedRows = [
  {
    id: 1,
    small: 21,
    big: 9007199254740993n,
    big_negative: -9007199254740993n,
    price: 1.25,
    ratio: 0.25,
    day: utc("2024-01-02T00:00:00"),
    at: utc("2024-01-01T11:00:00"),
    at_tz: utc("2024-01-01T08:00:00"),
    label: "u1",
    first: true,
  },
  {
    id: 2,
    small: 42,
    big: 9007199254740994n,
    big_negative: -9007199254740994n,
    price: 2.5,
    ratio: 0.5,
    day: utc("2024-01-03T00:00:00"),
    at: utc("2024-01-01T12:00:00"),
    at_tz: utc("2024-01-01T08:00:00"),
    label: "u2",
    first: false,
  },
];

describe("Definitions.read", () => {
  test("returns the stored rows with their columns, types and count", async () => {
    const frame = await defs.read("typed");
    expect(frame.columns).toEqual(["id", "small", "big", "big_negative", "price", "ratio", "day", "at", "at_tz", "label", "first"]);
    expect(frame.schema.find((column) => column.name === "price")?.type).toBe("DECIMAL(10,2)");
    expect(frame.numRows).toBe(2);
    expect(await frame.rows()).toEqual(typedRows);
    await frame.close();

    const spend = await defs.read("user_spend");
    expect(await spend.rows()).toEqual([
      { user_id: "u1", total: 35 },
      { user_id: "u2", total: 7 },
    ]);
  });

  test("gives numbers for safe integers and bigints beyond, DECIMAL as number, dates and timestamps as Date, nested values too", async () => {
    const [first] = await (await defs.read("typed")).rows();
    expect(typeof first!.id).toBe("number");
    expect(typeof first!.small).toBe("number");
    expect(typeof first!.big).toBe("bigint");
    expect(typeof first!.big_negative).toBe("bigint");
    expect(typeof first!.price).toBe("number");
    expect(first!.day).toBeInstanceOf(Date);
    expect(first!.at).toBeInstanceOf(Date);
    expect(first!.at_tz).toBeInstanceOf(Date);
    expect(await (await defs.read("nested")).rows()).toEqual([
      { id: 1, pair: [1, 2] },
      { id: 2, pair: [2, 3] },
    ]);
  });

  test("fails for an unknown feature and for one never built", async () => {
    await expect(defs.read("nope")).rejects.toThrow(FeatureNotFoundError);
    const error = await defs.read("unbuilt").catch((reason: unknown) => reason as Error);
    expect(error).toBeInstanceOf(FeatureNotBuiltError);
    expect((error as Error).message).toContain("mlforge build --features unbuilt");
  });
});

describe("FeatureFrame.head", () => {
  test("returns the first rows with the values rows() gives", async () => {
    const frame = await defs.read("typed");
    expect(await frame.head(1)).toEqual(typedRows.slice(0, 1));
    expect(await frame.head(10)).toEqual(typedRows);
    expect(await frame.head(0)).toEqual([]);
    expect(await (await defs.read("nested")).head(1)).toEqual([{ id: 1, pair: [1, 2] }]);
  });

  test("keeps the entity rows' order of training data", async () => {
    // Enough rows for DuckDB to work in parallel, in an order that no column sorts by.
    const entities = Array.from({ length: 5_000 }, (_, index) => ({ user_id: `u${(index * 7) % 3}`, n: (index * 7919) % 5_000 }));
    const frame = await defs.getTrainingData({ features: ["user_spend"], entities });
    try {
      const totals: Record<string, number | null> = { u0: null, u1: 35, u2: 7 };
      const expected = entities.slice(0, 1_000).map((row) => ({ ...row, total: totals[row.user_id] }));
      expect(await frame.head(1_000)).toEqual(expected);
    } finally {
      await frame.close();
    }
  });

  test("rejects a limit that is not a whole number of at least 0, and a closed frame", async () => {
    const frame = await defs.read("typed");
    await expect(frame.head(-1)).rejects.toThrow("head() takes a whole number of rows of at least 0, got -1.");
    await expect(frame.head(1.5)).rejects.toThrow(RangeError);
    await frame.close();
    await expect(frame.head(1)).rejects.toThrow(FeatureFrameClosedError);
  });
});

describe("writing files", () => {
  test("writeParquet and writeCsv write what rows() returns, creating directories", async () => {
    const frame = await defs.read("typed");
    const parquet = path.join(directory, "out", "deep", "typed.parquet");
    const csv = path.join(directory, "out", "typed.csv");
    await frame.writeParquet(parquet);
    await frame.writeCsv(csv);
    const rows = await frame.rows();
    expect(await readBack(`read_parquet('${parquet}')`)).toEqual(rows);
    expect(await readBack(`read_csv('${csv}')`)).toEqual(rows);
    expect(await readdir(path.join(directory, "out"))).toEqual(["deep", "typed.csv"]);
  });

  test("writes training data with entity rows given as objects, replacing an existing file", async () => {
    const frame = await defs.getTrainingData({
      features: ["user_spend"],
      entities: [
        { user_id: "u2", label: 1, seen: utc("2024-03-01T12:00:00") },
        { user_id: "u3", label: 0, seen: null },
        { user_id: "u1", label: 1, seen: utc("2024-03-02T00:00:00.5") },
      ],
    });
    try {
      const expected = [
        { user_id: "u2", label: 1, seen: utc("2024-03-01T12:00:00"), total: 7 },
        { user_id: "u3", label: 0, seen: null, total: null },
        { user_id: "u1", label: 1, seen: utc("2024-03-02T00:00:00.5"), total: 35 },
      ];
      expect(await frame.rows()).toEqual(expected);
      const parquet = path.join(directory, "train", "train.parquet");
      const csv = path.join(directory, "train", "train.csv");
      await frame.writeCsv(parquet); // replaced below: writing again swaps the file whole
      await frame.writeParquet(parquet);
      await frame.writeCsv(csv);
      expect(await readBack(`read_parquet('${parquet}')`)).toEqual(expected);
      expect(await readBack(`read_csv('${csv}')`)).toEqual(expected);
      expect((await readdir(path.join(directory, "train"))).sort()).toEqual(["train.csv", "train.parquet"]);
    } finally {
      await frame.close();
    }
  });
});

describe("temporary files", () => {
  const entities = [{ user_id: "u1" }, { user_id: "u2" }];

  test("close() removes the entity rows' temporary file; the frame cannot be used afterwards", async () => {
    const frame = await defs.getTrainingData({ features: ["user_spend"], entities });
    expect(await mlforgeDirectories()).toHaveLength(1);
    const running = frame.rows();
    await frame.close();
    // A method already running finishes before the files go.
    expect(await running).toEqual([
      { user_id: "u1", total: 35 },
      { user_id: "u2", total: 7 },
    ]);
    expect(await mlforgeDirectories()).toEqual([]);
    await expect(frame.rows()).rejects.toThrow(FeatureFrameClosedError);
    await expect(frame.writeParquet(path.join(directory, "never.parquet"))).rejects.toThrow(FeatureFrameClosedError);
    await frame.close();
  });

  test("Symbol.asyncDispose closes the frame, as `await using` does", async () => {
    const frame: FeatureFrame = await defs.getTrainingData({ features: ["user_spend"], entities });
    expect(await mlforgeDirectories()).toHaveLength(1);
    await frame[Symbol.asyncDispose]();
    expect(await mlforgeDirectories()).toEqual([]);
    await expect(frame.rows()).rejects.toThrow(/was closed/);
  });

  test("frames over stored features and entity files own no temporary file", async () => {
    const file = path.join(directory, "entities.csv");
    await writeFile(file, "user_id\nu2\n");
    const frame = await defs.getTrainingData({ features: ["user_spend"], entities: file });
    expect(await mlforgeDirectories()).toEqual([]);
    expect(await frame.rows()).toEqual([{ user_id: "u2", total: 7 }]);
  });
});
