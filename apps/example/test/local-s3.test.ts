import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { literal, query, runScript } from "./helpers";

const FEATURES = ["product_popularity", "user_avg_spend", "user_spend", "user_total_spend"];

let workdir: string;

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), "mlforge-example-local-s3-"));
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

/** The table rows (feature, status, rows) printed after the line starting with `marker`. */
function tableAfter(stdout: string, marker: string): string[][] {
  const text = stdout.slice(stdout.indexOf(marker));
  return FEATURES.map((name) => {
    const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `)) ?? "";
    return line.trim().split(/\s{2,}/).slice(0, 3);
  });
}

test("npm run start:s3 builds every feature into the local S3 server, skips them all the second time, lists the bucket and cleans up", async () => {
  const source = path.join(workdir, "transactions.parquet");
  const temporary = path.join(workdir, "tmp");
  await mkdir(temporary);
  const { code, stdout, stderr } = await runScript("src/local-s3.ts", ["--rows", "5000"], {
    MLFORGE_EXAMPLE_DATA: source,
    TMPDIR: temporary,
    // Whatever the calling shell has set, the script must use its own server's bucket.
    MLFORGE_BUCKET: "",
  });
  expect(stderr).not.toMatch(/error/i);
  expect(code).toBe(0);
  expect(stdout).toContain(`${source} is missing; generating it.\nWrote 5,000 transactions`);

  // Rows of each feature, counted independently from the generated transactions.
  const [counts] = await query(`
    SELECT count(DISTINCT user_id) AS users, count(DISTINCT product_id) AS products,
      (SELECT count(DISTINCT (user_id, CAST(event_time AS DATE) + offset_days)) FROM read_parquet(${literal(source)}), (VALUES (1), (8), (31)) AS offsets(offset_days)) AS user_days
    FROM read_parquet(${literal(source)})`);
  const rows: Record<string, number> = {
    product_popularity: Number(counts!.products),
    user_avg_spend: Number(counts!.users),
    user_spend: Number(counts!.user_days),
    user_total_spend: Number(counts!.users),
  };
  const format = (name: string) => rows[name]!.toLocaleString("en-US");
  expect(tableAfter(stdout, "Building 4 features")).toEqual(FEATURES.map((name) => [name, "built", format(name)]));
  expect(tableAfter(stdout, "Building again")).toEqual(FEATURES.map((name) => [name, "skipped", format(name)]));
  expect(stdout).toContain("Features are in s3://mlforge-features/dev/features.");

  const listing = stdout.slice(stdout.indexOf("Objects in s3://mlforge-features"));
  const keys = listing
    .split("\n")
    .filter((line) => line.startsWith("  "))
    .map((line) => line.trim());
  // Each feature, its metadata document, and its one build kept as a version (data and document).
  const versions = keys.filter((key) => key.startsWith("dev/features/_versions/"));
  expect(keys.filter((key) => !versions.includes(key)).sort()).toEqual(FEATURES.flatMap((name) => [`dev/features/${name}.parquet`, `dev/features/_metadata/${name}.json`]).sort());
  expect(versions.map((key) => key.replace(/\/[0-9a-f]{32}\./, "/<buildId>.")).sort()).toEqual(
    FEATURES.flatMap((name) => [`dev/features/_versions/${name}/<buildId>.json`, `dev/features/_versions/${name}/<buildId>.parquet`]).sort(),
  );
  expect(stdout.trimEnd().endsWith("S3 server stopped.")).toBe(true);
  // The server's data, the staged uploads and the download cache were all under its directory, now removed.
  expect((await readdir(temporary)).filter((entry) => entry.startsWith("mlforge"))).toEqual([]);
}, 60_000);
