import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateTransactions } from "../src/generate-transactions";
import { literal, query, readTransactions, type Transaction } from "./helpers";

const appDir = path.join(__dirname, "..");
let workdir: string;

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), "mlforge-example-generate-"));
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

/** Runs `npm run generate`'s script with tsx, as a user would. */
function runGenerate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/generate.ts", ...args], { cwd: appDir }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
    });
  });
}

const withoutId = ({ transactionId: _id, ...rest }: Transaction) => JSON.stringify(rest);

describe("generateTransactions", () => {
  let rows: Transaction[];
  let file: string;

  beforeAll(async () => {
    file = path.join(workdir, "nested", "transactions.parquet");
    const written = await generateTransactions({ rows: 20_000, seed: 7, out: file });
    expect(written).toMatchObject({ path: file, rows: 20_000 });
    expect(written.bytes).toBeGreaterThan(0);
    rows = await readTransactions(file);
  });

  test("writes the documented columns and types", async () => {
    const columns = await query(`DESCRIBE SELECT * FROM read_parquet(${literal(file)})`);
    expect(columns.map((column) => [column.column_name, column.column_type])).toEqual([
      ["transaction_id", "BIGINT"],
      ["user_id", "VARCHAR"],
      ["product_id", "VARCHAR"],
      ["amount", "DECIMAL(10,2)"],
      ["event_time", "TIMESTAMP"],
    ]);
  });

  test("writes plausible purchases over the 90 days ending 2025-06-30", () => {
    expect(rows).toHaveLength(20_000);
    expect(rows.map((row) => row.transactionId)).toEqual(Array.from({ length: 20_000 }, (_, index) => index + 1));
    const start = Date.parse("2025-04-02T00:00:00Z");
    const end = Date.parse("2025-07-01T00:00:00Z");
    const implausible = rows.filter(
      (row) =>
        !/^user_\d{5}$/.test(row.userId) ||
        !/^prod_\d{4}$/.test(row.productId) ||
        row.cents <= 0 ||
        row.eventTime.getTime() < start ||
        row.eventTime.getTime() >= end,
    );
    expect(implausible).toEqual([]);
    // Ids follow time, as in a real ledger.
    const outOfOrder = rows.filter((row, index) => index > 0 && row.eventTime < rows[index - 1]!.eventTime);
    expect(outOfOrder).toEqual([]);
    const days = new Set(rows.map((row) => row.eventTime.toISOString().slice(0, 10)));
    expect(days.size).toBe(90);
  });

  test("skews purchases towards heavy users and popular products", () => {
    const countBy = (key: (row: Transaction) => string) => {
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(key(row), (counts.get(key(row)) ?? 0) + 1);
      return [...counts.values()].sort((a, b) => b - a);
    };
    const users = countBy((row) => row.userId);
    expect(users.length).toBeGreaterThan(2_000);
    expect(users.length).toBeLessThanOrEqual(3_000);
    const top5Percent = users.slice(0, Math.round(users.length * 0.05)).reduce((sum, count) => sum + count, 0);
    expect(top5Percent / rows.length).toBeGreaterThan(0.2);

    const products = countBy((row) => row.productId);
    expect(products.length).toBeLessThanOrEqual(400);
    expect(products[0]!).toBeGreaterThan(10 * products[Math.floor(products.length / 2)]!);
  });

  test("gives the same rows for the same options and other rows for another seed", async () => {
    const again = path.join(workdir, "again.parquet");
    await generateTransactions({ rows: 20_000, seed: 7, out: again });
    expect(await readTransactions(again)).toEqual(rows);

    const reseeded = path.join(workdir, "reseeded.parquet");
    await generateTransactions({ rows: 20_000, seed: 8, out: reseeded });
    const other = await readTransactions(reseeded);
    expect(other).toHaveLength(20_000);
    const original = new Set(rows.map(withoutId));
    expect(other.filter((row) => original.has(withoutId(row))).length).toBeLessThan(100);
  });

  test("rejects a row count that is not a positive integer", async () => {
    await expect(generateTransactions({ rows: 0, out: path.join(workdir, "none.parquet") })).rejects.toThrow("Option 'rows' must be an integer of at least 1, got 0.");
    await expect(generateTransactions({ rows: 2.5, out: path.join(workdir, "none.parquet") })).rejects.toThrow(RangeError);
  });
});

describe("npm run generate", () => {
  test("honours --rows, --seed and --out and reports what it wrote", async () => {
    const file = path.join(workdir, "cli", "transactions.parquet");
    const { code, stdout, stderr } = await runGenerate(["--rows", "1234", "--seed", "5", "--out", file]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Wrote 1,234 transactions to .*transactions\.parquet \(\d+(\.\d)? (KiB|MiB|B)\) in \d/);

    const written = await readTransactions(file);
    expect(written).toHaveLength(1234);
    const reference = path.join(workdir, "reference.parquet");
    await generateTransactions({ rows: 1234, seed: 5, out: reference });
    expect(written).toEqual(await readTransactions(reference));
  });

  test("exits with 2 and the usage on a bad argument", async () => {
    const { code, stdout, stderr } = await runGenerate(["--rows", "many"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("--rows must be an integer, got 'many'.");
    expect(stderr).toContain("Usage: npm run generate");
  });
});
