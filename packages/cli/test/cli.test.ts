// Runs the built `mlforge` binary as a user does: a child process, a temp store, fixture definitions.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { query } from "@mlforge/test-support";
import { formatBytes } from "../src/format";
import { bin, createWorkDirectory, runNode, tableRow as summaryRow, type NodeOutcome } from "./support/cli";

// Each test starts the CLI a few times; Jest's default 5 s per test is too short on a busy machine
// (the root jest.config.cjs sets a longer timeout).

const packageRoot = path.resolve(__dirname, "..");
const fixtures = path.join(__dirname, "fixtures");
const project = path.join(fixtures, "project", "definitions.ts");
const broken = path.join(fixtures, "broken.ts");

let workDir: string;
let source: string;

/** Runs `node dist/bin.js ...args` with the fixture environment pointing at `store`. */
function mlforge(args: string[], options: { store?: string; cwd?: string } = {}): Promise<NodeOutcome> {
  return runNode(bin, args, {
    cwd: options.cwd ?? workDir,
    environment: { MLFORGE_TEST_SOURCE: source, MLFORGE_TEST_STORE: options.store ?? path.join(workDir, "unused-store") },
  });
}

/** Reads a file back with a DuckDB of the test's own, integers as numbers and timestamps as ISO strings. */
async function readBack(reader: string): Promise<Record<string, unknown>[]> {
  return (await query(`SELECT * FROM ${reader}`)).map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === "bigint" ? Number(value) : value instanceof Date ? value.toISOString() : value])),
  );
}

async function readMetadata(store: string, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(store, "_metadata", `${name}.json`), "utf8")) as Record<string, unknown>;
}

beforeAll(async () => {
  ({ workDir, source } = await createWorkDirectory("mlforge-cli-"));
});

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe("mlforge build", () => {
  let store: string;
  beforeAll(() => {
    store = path.join(workDir, "build-store");
  });

  test("builds every feature, prints a summary and writes Parquet files and metadata", async () => {
    const result = await mlforge(["build", "--target", project], { store });
    expect(result.stderr).not.toContain("Error");
    expect(result.code).toBe(0);
    expect(summaryRow(result.stdout, "user_total_spend")?.slice(0, 3)).toEqual(["user_total_spend", "built", "3"]);
    expect(summaryRow(result.stdout, "user_daily_spend")?.slice(0, 3)).toEqual(["user_daily_spend", "built", "4"]);
    expect(summaryRow(result.stdout, "product_popularity")?.slice(0, 3)).toEqual(["product_popularity", "built", "3"]);
    expect(result.stdout).toMatch(/^3 built, 0 skipped, 0 failed in \d+\.\d s$/m);

    // stderr is not a terminal here: one plain progress line per feature.
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^\[1\/3\] user_total_spend built 3 rows in \d+ ms$/),
      expect.stringMatching(/^\[2\/3\] user_daily_spend built 4 rows in \d+ ms$/),
      expect.stringMatching(/^\[3\/3\] product_popularity built 3 rows in \d+ ms$/),
    ]);

    for (const [name, rows] of [["user_total_spend", 3], ["user_daily_spend", 4], ["product_popularity", 3]] as const) {
      const parquet = await readFile(path.join(store, `${name}.parquet`));
      expect(parquet.subarray(0, 4).toString()).toBe("PAR1");
      expect(await readMetadata(store, name)).toMatchObject({ name, rows, bytes: parquet.length });
    }
  });

  test("a second build skips the unchanged features", async () => {
    const result = await mlforge(["build", "--target", project], { store });
    expect(result.code).toBe(0);
    expect(summaryRow(result.stdout, "user_total_spend")?.slice(0, 3)).toEqual(["user_total_spend", "skipped", "3"]);
    expect(result.stdout).toMatch(/^0 built, 3 skipped, 0 failed in /m);
    expect(result.stderr).toContain("[1/3] user_total_spend skipped");
  });

  test("--force with --features rebuilds only the selected features", async () => {
    const before = await readMetadata(store, "user_total_spend");
    const untouched = await readMetadata(store, "product_popularity");
    const result = await mlforge(["build", "--target", project, "--force", "--features", "user_total_spend,user_daily_spend"], { store });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^2 built, 0 skipped, 0 failed in /m);
    expect(summaryRow(result.stdout, "user_total_spend")?.[1]).toBe("built");
    expect(result.stdout).not.toContain("product_popularity");
    expect((await readMetadata(store, "user_total_spend")).builtAt).not.toBe(before.builtAt);
    expect(await readMetadata(store, "product_popularity")).toEqual(untouched);
  });

  test("--tags selects by tag and --json prints exactly one JSON document matching the store", async () => {
    const result = await mlforge(["build", "--target", project, "--tags", "products", "--force", "--json"], { store });
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as { built: Array<Record<string, unknown>>; skipped: unknown[]; failed: unknown[]; durationMs: number };
    expect(document.skipped).toEqual([]);
    expect(document.failed).toEqual([]);
    expect(document.built).toHaveLength(1);
    const file = path.join(store, "product_popularity.parquet");
    expect(document.built[0]).toMatchObject({ name: "product_popularity", status: "built", rows: 3, uri: file, bytes: (await stat(file)).size });
    expect(typeof document.durationMs).toBe("number");
  });

  test("an unknown feature name exits 1 and names the available features", async () => {
    const result = await mlforge(["build", "--target", project, "--features", "user_spend"], { store });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Feature 'user_spend' is not defined. Available: user_total_spend, user_daily_spend, product_popularity.");
    expect(result.stderr).not.toMatch(/\n\s+at /); // a known error: its message, no stack
  });
});

describe("mlforge build with a tag no feature has", () => {
  test("exits 1 and names the known tags, as a misspelt feature name does", async () => {
    const result = await mlforge(["build", "--target", project, "--tags", "user"], { store: path.join(workDir, "tag-store") });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("No features matched");
    expect(result.stderr).toContain("Error: Tag 'user' is not on any feature. Known tags: users, spend, products.");
    expect(existsSync(path.join(workDir, "tag-store", "user_total_spend.parquet"))).toBe(false);
  });
});

describe("control characters in what the CLI prints", () => {
  // ESC and BEL, raw, would let data drive the terminal (retitle it, clear it, fake output).
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

  test("inspect and the build summary escape them in data values, key values and failure messages", async () => {
    const store = path.join(workDir, "hostile-store");
    const target = path.join(fixtures, "hostile.ts");
    const build = await mlforge(["build", "--target", target], { store });
    expect(build.code).toBe(1);
    expect(build.stdout + build.stderr).not.toMatch(raw);
    expect(build.stdout).toContain("\\u001b[31mred\\u0007");
    const inspect = await mlforge(["inspect", "hostile_label", "--target", target], { store });
    expect(inspect.code).toBe(0);
    expect(inspect.stdout + inspect.stderr).not.toMatch(raw);
    expect(inspect.stdout).toContain("x\\u001b]0;pwned\\u0007");
    const json = await mlforge(["build", "--target", target, "--json"], { store });
    expect(json.stdout).not.toMatch(raw);
    expect(JSON.parse(json.stdout).failed[0].error.message).toContain("\u001b[31mred\u0007");
  });
});

describe("mlforge build --shard", () => {
  const everyFeature = ["product_popularity", "user_daily_spend", "user_total_spend"];
  const rowsOf: Record<string, number> = { user_total_spend: 3, user_daily_spend: 4, product_popularity: 3 };

  /** The features built into `store`, from its Parquet files and metadata documents. */
  async function storedFeatures(store: string): Promise<string[]> {
    const files = existsSync(store) ? await readdir(store) : [];
    const names = files.filter((file) => file.endsWith(".parquet")).map((file) => file.slice(0, -".parquet".length));
    for (const name of names) expect(await readMetadata(store, name)).toMatchObject({ name, rows: rowsOf[name] });
    return names.sort();
  }

  test("n = 3: each shard builds only its own features, the shards are disjoint and together build every feature", async () => {
    const store = path.join(workDir, "shard-store");
    const builtBy: string[][] = [];
    let before: string[] = [];
    // One after the other into the same store, to see what each shard's run adds.
    for (const index of [1, 2, 3]) {
      const result = await mlforge(["build", "--target", project, "--shard", `${index}/3`, "--json"], { store });
      expect(result.stderr).not.toContain("Error");
      expect(result.code).toBe(0);
      const document = JSON.parse(result.stdout) as { shard: { index: number; count: number; features: string[] }; built: Array<{ name: string }>; skipped: unknown[] };
      const built = document.built.map((entry) => entry.name).sort();
      expect(document.shard).toEqual({ index, count: 3, features: built });
      expect(document.skipped).toEqual([]);
      expect(built.length).toBeGreaterThan(0);
      const after = await storedFeatures(store);
      // What this run added to the store is exactly what it reports as built.
      expect(after.filter((name) => !before.includes(name))).toEqual(built);
      builtBy.push(built);
      before = after;
    }
    // Sorted names dealt round-robin: product_popularity, user_daily_spend, user_total_spend.
    expect(builtBy).toEqual([["product_popularity"], ["user_daily_spend"], ["user_total_spend"]]);
    const union = builtBy.flat();
    expect(new Set(union).size).toBe(union.length);
    expect(union.sort()).toEqual(everyFeature);
    expect(await storedFeatures(store)).toEqual(everyFeature);
  });

  test("splits the features --tags selects, says which shard it is, and a shard left with none builds nothing and exits 0", async () => {
    const store = path.join(workDir, "shard-tags-store");
    // --tags users selects user_total_spend and user_daily_spend; sorted, shard 1/2 gets user_daily_spend.
    const first = await mlforge(["build", "--target", project, "--tags", "users", "--shard", "1/2"], { store });
    expect(first.code).toBe(0);
    expect(first.stdout.split("\n")[0]).toBe("Shard 1/2: 1 of 2 selected features.");
    expect(summaryRow(first.stdout, "user_daily_spend")?.slice(0, 3)).toEqual(["user_daily_spend", "built", "4"]);
    expect(first.stdout).toMatch(/^1 built, 0 skipped, 0 failed in /m);
    expect(await storedFeatures(store)).toEqual(["user_daily_spend"]);

    const empty = await mlforge(["build", "--target", project, "--features", "user_total_spend", "--shard", "2/2"], { store });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe("Shard 2/2 has no features to build (1 selected feature over 2 shards); nothing to do.\n");
    expect(empty.stderr).toBe("");
    expect(await storedFeatures(store)).toEqual(["user_daily_spend"]);
  });

  test("an unknown --features name still exits 1 on every shard", async () => {
    const result = await mlforge(["build", "--target", project, "--features", "user_spend", "--shard", "2/3"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Feature 'user_spend' is not defined.");
  });
});

describe("mlforge build with a failing feature", () => {
  test("exits 1, reports the failure and still builds the good feature", async () => {
    const store = path.join(workDir, "broken-store");
    const result = await mlforge(["build", "--target", broken], { store });
    expect(result.code).toBe(1);
    expect(summaryRow(result.stdout, "broken_spend")?.slice(0, 2)).toEqual(["broken_spend", "failed"]);
    expect(summaryRow(result.stdout, "good_spend")?.slice(0, 3)).toEqual(["good_spend", "built", "3"]);
    expect(result.stdout).toMatch(/^Failed:\n {2}broken_spend: Feature 'broken_spend' failed to build: .*no_such_column/m);
    expect(result.stdout).toMatch(/^1 built, 0 skipped, 1 failed in /m);
    expect(existsSync(path.join(store, "good_spend.parquet"))).toBe(true);
    expect(existsSync(path.join(store, "broken_spend.parquet"))).toBe(false);
    expect(existsSync(path.join(store, "_metadata", "broken_spend.json"))).toBe(false);

    const json = await mlforge(["build", "--target", broken, "--json"], { store });
    expect(json.code).toBe(1);
    const document = JSON.parse(json.stdout) as { skipped: Array<{ name: string }>; failed: Array<{ name: string; error: { name: string; message: string } }> };
    expect(document.skipped.map((entry) => entry.name)).toEqual(["good_spend"]);
    expect(document.failed).toHaveLength(1);
    expect(document.failed[0]!.name).toBe("broken_spend");
    expect(document.failed[0]!.error.name).toBe("FeatureBuildError");
    expect(document.failed[0]!.error.message).toContain("no_such_column");
  });
});

describe("mlforge list and inspect", () => {
  let store: string;
  beforeAll(() => {
    store = path.join(workDir, "list-store");
  });

  test("before a build: list says not built, inspect shows the definition and exits 1", async () => {
    const list = await mlforge(["list", "--target", project], { store });
    expect(list.code).toBe(0);
    expect(summaryRow(list.stdout, "user_total_spend")).toEqual(["user_total_spend", "user_id", "-", "users, spend", "-", "not built"]);

    const inspect = await mlforge(["inspect", "user_total_spend", "--target", project], { store });
    expect(inspect.code).toBe(1);
    expect(inspect.stdout).toContain("Lifetime spend per user");
    expect(inspect.stdout).not.toContain("Schema");
    expect(inspect.stdout).not.toContain("Sample rows");
    expect(inspect.stderr).toContain("Feature 'user_total_spend' has not been built yet. Run `mlforge build --features user_total_spend`.");
  });

  test("after a build: list shows rows and build time, inspect shows metadata and schema", async () => {
    expect((await mlforge(["build", "--target", project, "--features", "user_daily_spend"], { store })).code).toBe(0);
    const metadata = await readMetadata(store, "user_daily_spend");

    // Read-only commands: run them side by side.
    const [list, listJson, inspect, inspectJson, unknown, inspectTwo, inspectNone] = await Promise.all([
      mlforge(["list", "--target", project], { store }),
      mlforge(["list", "--target", project, "--json"], { store }),
      mlforge(["inspect", "user_daily_spend", "--target", project], { store }),
      mlforge(["inspect", "user_daily_spend", "--target", project, "--json"], { store }),
      mlforge(["inspect", "user_spend", "--target", project], { store }),
      mlforge(["inspect", "user_daily_spend", "--target", project, "--rows", "2"], { store }),
      mlforge(["inspect", "user_daily_spend", "--target", project, "--rows", "0"], { store }),
    ]);

    expect(list.code).toBe(0);
    const builtAt = `${String(metadata.builtAt).slice(0, 19).replace("T", " ")} UTC`;
    expect(summaryRow(list.stdout, "user_daily_spend")).toEqual(["user_daily_spend", "user_id", "day", "users", "4", builtAt]);
    expect(summaryRow(list.stdout, "product_popularity")).toEqual(["product_popularity", "product_id", "-", "products", "-", "not built"]);

    expect(listJson.code).toBe(0);
    const listing = JSON.parse(listJson.stdout) as Array<{ name: string; keys: string[]; timestamp: string | null; metadata: unknown }>;
    expect(listing.map((entry) => entry.name)).toEqual(["user_total_spend", "user_daily_spend", "product_popularity"]);
    expect(listing[1]).toMatchObject({ keys: ["user_id"], timestamp: "day", metadata });
    expect(listing[0]!.metadata).toBeNull();

    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(/^ {2}rows +4$/m);
    expect(inspect.stdout).toMatch(/^ {2}built at +\S+ \S+ UTC$/m);
    expect(inspect.stdout).toContain(String(metadata.fingerprint));
    expect(inspect.stdout).toContain(source);
    const schema = inspect.stdout.slice(inspect.stdout.indexOf("Schema"));
    expect(schema).toMatch(/^ {2}user_id +BIGINT$/m);
    expect(schema).toMatch(/^ {2}day +DATE$/m);
    expect(schema).toMatch(/^ {2}spend +DOUBLE$/m);

    // The stored rows, by hand from the transactions: (user, day) → that day's spend.
    const dailySpend = [
      ["1", "2025-01-01", "5.5"],
      ["1", "2025-01-02", "4.5"],
      ["2", "2025-01-01", "10"],
      ["3", "2025-01-03", "4"],
    ];
    const sample = sampleRows(inspect.stdout);
    expect(inspect.stdout).toContain("\nSample rows (all 4)\n");
    expect(sample.header).toEqual(["user_id", "day", "spend"]);
    expect([...sample.rows].sort()).toEqual(dailySpend);

    expect(inspectTwo.code).toBe(0);
    expect(inspectTwo.stdout).toContain("\nSample rows (first 2 of 4)\n");
    const two = sampleRows(inspectTwo.stdout).rows;
    expect(two).toHaveLength(2);
    for (const row of two) expect(dailySpend).toContainEqual(row);

    expect(inspectNone.code).toBe(0);
    expect(inspectNone.stdout).toContain("Schema");
    expect(inspectNone.stdout).not.toContain("Sample rows");

    expect(inspectJson.code).toBe(0);
    expect(JSON.parse(inspectJson.stdout)).toEqual(metadata);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Available: user_total_spend, user_daily_spend, product_popularity.");
  });

  test("after a build killed between data and metadata, inspect describes the data, not the stale document", async () => {
    const crashed = path.join(workDir, "crashed-store");
    expect((await mlforge(["build", "--target", project, "--features", "product_popularity"], { store: crashed })).code).toBe(0);
    const document = path.join(crashed, "_metadata", "product_popularity.json");
    const current = JSON.parse(await readFile(document, "utf8"));
    // What a kill leaves: the new data in place, and the previous build's document beside it.
    await writeFile(document, JSON.stringify({ ...current, buildId: "0".repeat(32), rows: 999, fingerprint: "f".repeat(64) }));
    const inspect = await mlforge(["inspect", "product_popularity", "--target", project, "--json"], { store: crashed });
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ buildId: current.buildId, rows: current.rows, fingerprint: current.fingerprint });
  });
});

/** The header and rows of inspect's "Sample rows" table, cells split on runs of spaces. */
function sampleRows(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.slice(stdout.indexOf("Sample rows")).trimEnd().split("\n").slice(1);
  const cells = (line: string) => line.trim().split(/\s+/);
  return { header: cells(lines[0] ?? ""), rows: lines.slice(2).map(cells) };
}

describe("mlforge training-data", () => {
  let store: string;
  let labels: string;

  beforeAll(async () => {
    store = path.join(workDir, "training-store");
    labels = path.join(workDir, "labels.csv");
    // Out of time order, with a user never seen (4), one before any purchase (2), and times
    // exactly on and just before a day's start.
    await writeFile(
      labels,
      `user_id,event_time,label
1,2025-01-02 12:00:00,1
2,2024-12-31 23:00:00,0
3,2025-01-03 00:00:00,1
1,2025-01-01 23:59:59,0
4,2025-01-05 00:00:00,0
`,
    );
    const build = await mlforge(["build", "--target", project, "--features", "user_total_spend,user_daily_spend"], { store });
    expect(build.code).toBe(0);
  });

  // By hand: total_spend is the lifetime sum (no timestamp); spend is user_daily_spend of the latest
  // day at or before event_time (a DATE is its midnight), none: null.
  const expected = [
    { user_id: 1, event_time: "2025-01-02T12:00:00.000Z", label: 1, total_spend: 10, spend: 4.5 },
    { user_id: 2, event_time: "2024-12-31T23:00:00.000Z", label: 0, total_spend: 10, spend: null },
    { user_id: 3, event_time: "2025-01-03T00:00:00.000Z", label: 1, total_spend: 4, spend: 4 },
    { user_id: 1, event_time: "2025-01-01T23:59:59.000Z", label: 0, total_spend: 10, spend: 5.5 },
    { user_id: 4, event_time: "2025-01-05T00:00:00.000Z", label: 0, total_spend: null, spend: null },
  ];

  test("writes one row per entity row, in order, each feature as of the row's time, and prints a summary", async () => {
    const out = path.join(workDir, "training", "train.parquet");
    const args = ["--features", "user_total_spend,user_daily_spend", "--entities", labels, "--timestamp", "event_time", "--out", out];
    const result = await mlforge(["training-data", "--target", project, ...args], { store });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(await readBack(`read_parquet('${out}')`)).toEqual(expected);

    const { size } = await stat(out);
    expect(result.stdout.split("\n")[0]).toBe(`Wrote training data to ${out}`);
    expect(result.stdout).toMatch(/^ {2}rows +5$/m);
    expect(result.stdout).toMatch(/^ {2}columns +5: user_id, event_time, label, total_spend, spend$/m);
    expect(result.stdout).toMatch(/^ {2}format +parquet$/m);
    expect(result.stdout).toContain(`  size      ${formatBytes(size)}\n`);
    expect(result.stdout).toMatch(/^ {2}duration +\d+(\.\d)? m?s$/m);
  });

  test("writes CSV for a .csv --out, resolving relative paths from the working directory, and --json prints the summary", async () => {
    const result = await mlforge(
      ["training-data", "--target", project, "--features", "user_total_spend,user_daily_spend", "--entities", "labels.csv", "--timestamp", "event_time", "--out", "csv/train.csv", "--json"],
      { store },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = path.join(workDir, "csv", "train.csv");
    expect(await readFile(out, "utf8")).toBe(
      `user_id,event_time,label,total_spend,spend
1,2025-01-02 12:00:00,1,10.0,4.5
2,2024-12-31 23:00:00,0,10.0,
3,2025-01-03 00:00:00,1,4.0,4.0
1,2025-01-01 23:59:59,0,10.0,5.5
4,2025-01-05 00:00:00,0,,
`,
    );
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toEqual({
      path: out,
      format: "csv",
      rows: 5,
      columns: ["user_id", "event_time", "label", "total_spend", "spend"],
      schema: [
        { name: "user_id", type: "BIGINT" },
        { name: "event_time", type: "TIMESTAMP" },
        { name: "label", type: "BIGINT" },
        { name: "total_spend", type: "DOUBLE" },
        { name: "spend", type: "DOUBLE" },
      ],
      bytes: (await stat(out)).size,
      durationMs: expect.any(Number),
      // A CSV file has no footer to carry it, but the summary shows what the training set was made from.
      manifest: expect.objectContaining({
        features: [expect.objectContaining({ name: "user_total_spend", plan: "keys" }), expect.objectContaining({ name: "user_daily_spend", plan: "rank" })],
        timestamp: "event_time",
      }),
    });
  });

  test("a feature never built exits 1 with core's message and writes nothing", async () => {
    const out = path.join(workDir, "never", "train.parquet");
    const result = await mlforge(
      ["training-data", "--target", project, "--features", "product_popularity", "--entities", labels, "--out", out],
      { store },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`Error: Feature 'product_popularity' has not been built into the offline store (${store}). Build it first: run \`mlforge build --features product_popularity\``);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.dirname(out))).toBe(false);
  });

  test("an --out that is a directory, or whose parent is a file, is a usage error naming the path", async () => {
    const directoryOut = path.join(workDir, "out-directory.parquet");
    await mkdir(directoryOut, { recursive: true });
    const fileParent = path.join(workDir, "out-parent-file");
    await writeFile(fileParent, "not a directory");
    for (const [out, expected] of [
      [directoryOut, `Error: --out '${directoryOut}' is a directory. Give a file path such as ${path.join(directoryOut, "train.parquet")}.`],
      [path.join(fileParent, "train.parquet"), `Error: --out '${path.join(fileParent, "train.parquet")}' cannot be written: '${fileParent}' is a file, not a directory. Choose another path.`],
    ]) {
      const result = await mlforge(["training-data", "--target", project, "--features", "user_total_spend", "--entities", labels, "--out", out!], { store });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(expected);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await readFile(fileParent, "utf8")).toBe("not a directory");
  });

  test("a timestamped feature without --timestamp exits 1 saying what to pass", async () => {
    const result = await mlforge(
      ["training-data", "--target", project, "--features", "user_daily_spend", "--entities", labels, "--out", path.join(workDir, "no-time.parquet")],
      { store },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Feature 'user_daily_spend' has a timestamp");
    expect(result.stderr).toContain("Entity columns: user_id, event_time, label.");
  });
});

describe("finding the definitions file", () => {
  test("finds definitions.ts in the working directory", async () => {
    const result = await mlforge(["list", "--json"], { cwd: path.dirname(project) });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Array<{ name: string }>).map((entry) => entry.name)).toEqual([
      "user_total_spend",
      "user_daily_spend",
      "product_popularity",
    ]);
  });

  test("finds src/definitions.mjs exporting a default Definitions", async () => {
    const result = await mlforge(["list", "--json"], { cwd: path.join(fixtures, "src-layout") });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Array<{ name: string }>).map((entry) => entry.name)).toEqual(["purchase_count"]);
  });

  test("no definitions file is a usage error naming what was looked for", async () => {
    const empty = path.join(workDir, "empty");
    await mkdir(empty);
    const result = await mlforge(["build"], { cwd: empty });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("definitions.ts, definitions.mts, definitions.js, definitions.mjs, src/definitions.ts");
    expect(result.stderr).toContain("--target");
  });

  test("a --target file that does not exist is a usage error", async () => {
    const result = await mlforge(["list", "--target", "missing/definitions.ts"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Definitions file 'missing/definitions.ts' does not exist");
  });

  test("a file whose default export is null is a usage error, not a TypeError", async () => {
    const result = await mlforge(["list", "--target", path.join(fixtures, "null-default.ts")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("exports no Definitions (its exports: default)");
    expect(result.stderr).not.toContain("TypeError");
  });

  test("a file that exports no Definitions is a usage error", async () => {
    const result = await mlforge(["list", "--target", path.join(fixtures, "no-definitions.ts")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("exports no Definitions (its exports: lonelyFeature)");
  });
});

describe("signals", () => {
  test.each([
    ["SIGINT", 130, "Interrupted."],
    ["SIGTERM", 143, "Terminated."],
  ] as const)("%s stops a running build, which exits %i saying so", async (signal, code, message) => {
    const store = path.join(workDir, `signal-${signal}`);
    const child = spawn(process.execPath, [bin, "build", "--target", path.join(fixtures, "slow.ts")], {
      cwd: workDir,
      env: { ...process.env, MLFORGE_TEST_SOURCE: source, MLFORGE_TEST_STORE: store, JITI_FS_CACHE: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", (exitCode) => resolve(exitCode)));
    await new Promise<void>((resolve) =>
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
        if (stderr.includes("QUERY STARTED")) resolve();
      }),
    );
    // The query is handed to DuckDB just after the transform returns.
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill(signal);
    expect(await exited).toBe(code);
    expect(stderr).toContain(message);
    expect(await readdir(store).catch(() => [])).not.toContain("slow.parquet");
  });
});

describe("command line", () => {
  test.each([
    [["build", "--frce"], "Unknown option '--frce'"],
    [["deploy"], "Unknown command 'deploy'"],
    [["inspect"], "inspect needs a feature name"],
    [[], "No command given"],
    [["training-data", "--features", "a", "--entities", "labels.csv"], "training-data needs --out, for example `mlforge training-data --features"],
    [["training-data", "--out", "train.parquet"], "training-data needs --features, --entities"],
    [["training-data", "--features", "a", "--entities", "labels.csv", "--out", "train.txt"], "--out 'train.txt' has an unknown file type"],
    [["list", "--out", "train.parquet"], "--out applies to `mlforge training-data` only."],
    [["inspect", "user_total_spend", "--rows", "many"], "--rows needs a whole number of at least 0, got 'many'."],
    [["build", "--shard", "0/3"], "--shard needs i/n, the 1-based share i of n shares with 1 <= i <= n, got '0/3'."],
    [["build", "--shard", "4/3"], "got '4/3'. For example --shard 2/4; from a 0-based index such as JOB_COMPLETION_INDEX pass --shard $((JOB_COMPLETION_INDEX + 1))/4."],
    [["build", "--shard", "a/b"], "--shard needs i/n, the 1-based share i of n shares with 1 <= i <= n, got 'a/b'."],
    [["build", "--shard", "2"], "--shard needs i/n, the 1-based share i of n shares with 1 <= i <= n, got '2'."],
    [["list", "--shard", "1/2"], "--shard applies to `mlforge build` only."],
  ])("mlforge %j is a usage error", async (args, message) => {
    const result = await mlforge(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("mlforge --help");
  });

  test("--help prints usage and --version the package version", async () => {
    const help = await mlforge(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mlforge <command>/);
    for (const flag of ["training-data", "--target", "--features", "--tags", "--force", "--shard", "--rows", "--entities", "--timestamp", "--out", "--json"]) {
      expect(help.stdout).toContain(flag);
    }

    const version = await mlforge(["--version"]);
    expect(version.code).toBe(0);
    const { version: expected } = JSON.parse(await readFile(path.join(packageRoot, "package.json"), "utf8")) as { version: string };
    expect(version.stdout).toBe(`${expected}\n`);
  });
});

describe("mlforge validate and checks", () => {
  const checked = path.join(fixtures, "checks.ts");

  test("validate publishes nothing and exits 1 when an error check fails; warnings pass", async () => {
    const store = path.join(workDir, "checks-store");
    const all = await mlforge(["validate", "--target", checked], { store });
    expect(all.code).toBe(1);
    expect(all.stdout).toContain("purchases lessThan(3): warning: 1 of 3 rows");
    expect(all.stdout).toContain("total_spend lessThan(10): FAILED: 2 of 3 rows");
    expect(all.stdout).toContain("Invalid: 2 of 3 features passed; nothing was published.");
    const files = existsSync(store) ? (await readdir(store, { recursive: true })).map(String) : [];
    expect(files.filter((file) => file.endsWith(".parquet") || file.endsWith(".json"))).toEqual([]);

    const fine = await mlforge(["validate", "--target", checked, "--features", "user_total_spend,product_popularity", "--json"], { store });
    expect(fine.code).toBe(0);
    const document = JSON.parse(fine.stdout) as { passed: boolean; features: Array<{ name: string; checks: unknown[] }> };
    expect(document.passed).toBe(true);
    expect(document.features[1]!.checks).toEqual([{ column: "purchases", check: "lessThan(3)", severity: "warn", passed: false, failingRows: 1, rows: 3 }]);
  });

  test("inspect shows the last build's check results", async () => {
    const store = path.join(workDir, "checks-inspect-store");
    expect((await mlforge(["build", "--target", checked, "--features", "product_popularity"], { store })).code).toBe(0);
    const inspect = await mlforge(["inspect", "product_popularity", "--target", checked], { store });
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain("Checks (last build)\n  purchases lessThan(3): warning: 1 of 3 rows\n");
  });
});
