// `mlforge diff`: the built binary as a child process over two builds of a fixture feature, and the
// text report's layout from hand-made results.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FeatureDiff } from "@mlforge/core";
import { formatDiff, formatMean } from "../src/diff-command";
import { bin, runNode, type NodeOutcome } from "./support/cli";

const definitions = path.join(__dirname, "fixtures", "diff.ts");

// Build a: u1..u4; score 1, 2, 3, NULL (mean 2, one null); visits INTEGER 10, NULL, 30, 50 (mean 30, one null).
const CSV_A = "user_id,score,visits,legacy\nu1,1,10,x\nu2,2,,y\nu3,3,30,z\nu4,,50,w\n";
// Build b: u1, u2, u5, u6; score 1, 2.5 (u2 changed), 5.5, NULL (mean 3); visits DOUBLE 10, 20, NULL, NULL (mean 15, two nulls).
const CSV_B = "user_id,score,visits,region\nu1,1,10,eu\nu2,2.5,20,eu\nu5,5.5,,us\nu6,,,us\n";

let workDir: string;
let source: string;

function mlforge(args: string[], environment: { store?: string; variant?: string } = {}): Promise<NodeOutcome> {
  return runNode(bin, args, {
    cwd: workDir,
    environment: {
      MLFORGE_TEST_SOURCE: source,
      MLFORGE_TEST_STORE: environment.store ?? path.join(workDir, "unused-store"),
      MLFORGE_TEST_VARIANT: environment.variant ?? "b",
    },
  });
}

/** Builds variant `variant` of user_stats from `csv` into `store` (every build keeps its version); returns its build id. */
async function buildVersion(store: string, variant: string, csv: string): Promise<string> {
  await writeFile(source, csv);
  const result = await mlforge(["build", "--target", definitions], { store, variant });
  expect(result.code).toBe(0);
  const { buildId } = JSON.parse(await readFile(path.join(store, "_metadata", "user_stats.json"), "utf8")) as { buildId: string };
  return buildId;
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing. Build the CLI first: npx turbo run build --filter=@mlforge/cli...`);
  workDir = await mkdtemp(path.join(tmpdir(), "mlforge-cli-diff-"));
  source = path.join(workDir, "users.csv");
});

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe("mlforge diff over two builds", () => {
  let store: string;
  let a: string;
  let b: string;

  beforeAll(async () => {
    store = path.join(workDir, "store");
    a = await buildVersion(store, "a", CSV_A);
    b = await buildVersion(store, "b", CSV_B);
  });

  test("previous → current by default: a readable report, exit 0", async () => {
    const result = await mlforge(["diff", "user_stats", "--target", definitions], { store });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "Feature user_stats",
      expect.stringMatching(new RegExp(`^  from  ${a}, built \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC, 4 rows$`)),
      expect.stringMatching(new RegExp(`^  to    ${b} \\(current\\), built .* UTC, 4 rows$`)),
    ]);
    expect(result.stdout).toContain(
      "\nColumns: 1 added, 1 removed, 1 retyped\n  + region  VARCHAR\n  - legacy  VARCHAR\n  ~ visits  INTEGER → DOUBLE\n\n" +
        "Rows (by user_id): 2 added, 2 removed, 1 changed\nKeys (user_id): 2 added, 2 removed\n",
    );
    const table = lines.filter((line) => /^ {2}(score|visits) /.test(line)).map((line) => line.trim().split(/\s+/));
    expect(table).toEqual([
      ["score", "2", "3", "+1", "1", "1", "0"],
      ["visits", "30", "15", "-15", "1", "2", "+1"],
    ]);
    expect(result.stdout).not.toContain("No differences.");
  });

  test("--json prints the FeatureDiff; build ids as positionals compare the other way round", async () => {
    const forward = await mlforge(["diff", "user_stats", "previous", "current", "--json", "--target", definitions], { store });
    expect(forward.code).toBe(0);
    const diff = JSON.parse(forward.stdout) as FeatureDiff;
    expect(Object.keys(diff)).toEqual(["name", "from", "to", "keys", "timestamp", "columns", "rows", "keyValues", "numeric"]);
    expect(diff.from).toEqual({ buildId: a, builtAt: expect.any(String), rows: 4, bytes: expect.any(Number), fingerprint: expect.any(String), current: false });
    expect(diff.to).toMatchObject({ buildId: b, rows: 4, current: true });
    expect([diff.keys, diff.timestamp, diff.rows, diff.keyValues]).toEqual([["user_id"], null, { added: 2, removed: 2, changed: 1 }, { added: 2, removed: 2 }]);
    expect(diff.numeric).toEqual([
      { name: "score", mean: { from: 2, to: 3, delta: 1 }, nullCount: { from: 1, to: 1, delta: 0 } },
      { name: "visits", mean: { from: 30, to: 15, delta: -15 }, nullCount: { from: 1, to: 2, delta: 1 } },
    ]);

    const backward = await mlforge(["diff", "user_stats", b, a, "--json", "--target", definitions], { store });
    expect(backward.code).toBe(0);
    const back = JSON.parse(backward.stdout) as FeatureDiff;
    expect([back.from.buildId, back.to.buildId]).toEqual([b, a]);
    expect(back.columns).toEqual({ added: [{ name: "legacy", type: "VARCHAR" }], removed: [{ name: "region", type: "VARCHAR" }], retyped: [{ name: "visits", from: "DOUBLE", to: "INTEGER" }] });
    expect(back.numeric.map(({ name, mean, nullCount }) => [name, mean.delta, nullCount.delta])).toEqual([
      ["score", -1, 0],
      ["visits", 15, -1],
    ]);
  });

  test("a build compared with itself: no differences, exit 0", async () => {
    const result = await mlforge(["diff", "user_stats", "current", "current", "--target", definitions], { store });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Columns: unchanged\n");
    expect(result.stdout).toContain("Rows (by user_id): 0 added, 0 removed, 0 changed\n");
    expect(result.stdout.endsWith("\nNo differences.\n")).toBe(true);
  });

  test("an unknown version exits 1 naming the kept ones", async () => {
    const result = await mlforge(["diff", "user_stats", "0123456789abcdef", "--target", definitions], { store });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Error: Feature 'user_stats' has no version '0123456789abcdef'");
    expect(result.stderr).toContain(`Kept versions, newest first: ${b}, ${a}.`);
  });
});

describe("mlforge diff without two builds", () => {
  test("one version only: exit 1, nothing to compare with, and how to keep more", async () => {
    const store = path.join(workDir, "one-version-store");
    const only = await buildVersion(store, "a", CSV_A);
    const result = await mlforge(["diff", "user_stats", "--target", definitions], { store, variant: "a" });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`Error: Feature 'user_stats' has one version only (${only}, the current one): there is nothing to compare it with.`);
    expect(result.stderr).toContain("`keepVersions`");
  });

  test("never built: exit 1 saying to build it", async () => {
    const result = await mlforge(["diff", "user_stats", "--target", definitions], { store: path.join(workDir, "empty-store") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Feature 'user_stats' has not been built into the offline store");
  });

  test.each([
    [["diff"], "diff needs a feature name, for example `mlforge diff user_total_spend`."],
    [["diff", "a", "b", "c", "d"], "diff takes a feature name and at most 2 more (<from>, <to>), got 4 arguments: a, b, c, d."],
    [["diff", "user_stats", "--force"], "--force applies to `mlforge build` and `mlforge sync-online` only."],
  ])("mlforge %j is a usage error (exit 2)", async (args, message) => {
    const result = await mlforge(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Error: ${message}`);
  });

  test("--help describes the arguments", async () => {
    const result = await mlforge(["diff", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: mlforge diff <feature> \[<from> \[<to>\]\] \[options\]\n/);
    expect(result.stdout).toContain("\nArguments:\n  <feature>  ");
    expect(result.stdout).toMatch(/\n {2}<from> +the older build: a build id from `mlforge versions <feature>`,\n +"previous"/);
    expect((await mlforge(["--help"])).stdout).toContain("diff <feature> [<from> [<to>]]");
  });
});

describe("the text report", () => {
  const version = (buildId: string, current: boolean) => ({ buildId, builtAt: "2025-01-31T14:05:09.000Z", rows: 1234, bytes: 1, fingerprint: "f", current });
  const base: FeatureDiff = {
    name: "daily_spend",
    from: version("aaaa0001", false),
    to: version("aaaa0002", true),
    keys: ["user_id"],
    timestamp: "day",
    columns: { added: [], removed: [], retyped: [] },
    rows: { added: 2, removed: 1, changed: 1500 },
    keyValues: { added: 1, removed: 0 },
    numeric: [{ name: "bonus", mean: { from: null, to: 0.123456, delta: null }, nullCount: { from: null, to: 1, delta: null } }],
  };

  test("rows by keys and timestamp, keys apart, a column only in one build as '-'", () => {
    expect(formatDiff(base)).toBe(
      "Feature daily_spend\n" +
        "  from  aaaa0001, built 2025-01-31 14:05:09 UTC, 1,234 rows\n" +
        "  to    aaaa0002 (current), built 2025-01-31 14:05:09 UTC, 1,234 rows\n" +
        "\nColumns: unchanged\n" +
        "\nRows (by user_id, day): 2 added, 1 removed, 1,500 changed\n" +
        "Keys (user_id): 1 added, 0 removed\n" +
        "\n" +
        "  numeric column  mean (from)  mean (to)  change  nulls (from)  nulls (to)  change\n" +
        "  --------------  -----------  ---------  ------  ------------  ----------  ------\n" +
        "  bonus                     -     0.1235       -             -           1       -\n",
    );
  });

  test("rows that cannot be matched say why", () => {
    const renamed: FeatureDiff = {
      ...base,
      keys: ["customer_id"],
      timestamp: null,
      columns: { added: [{ name: "customer_id", type: "VARCHAR" }], removed: [{ name: "user_id", type: "VARCHAR" }], retyped: [] },
      rows: null,
      keyValues: null,
      numeric: [],
    };
    const text = formatDiff(renamed);
    expect(text).toContain("\nRows (by customer_id): not compared: 'customer_id' is not in the from build, so rows cannot be matched\n");
    expect(text).not.toContain("Keys (");
    expect(text).not.toContain("No differences.");
  });

  test("means: four decimals, significant digits below 1, thousands separated", () => {
    expect([formatMean(null), formatMean(0), formatMean(26.666666), formatMean(1234567.891), formatMean(-0.000012345), formatMean(2)]).toEqual([
      "-",
      "0",
      "26.6667",
      "1,234,567.891",
      "-0.00001235",
      "2",
    ]);
  });
});
