// `mlforge training-data --reproduce` as a user runs it: the built binary, a temp store, the fixture project.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { literal, query } from "@mlforge/test-support";
import { bin, runNode, type NodeOutcome } from "./support/cli";

// Each test starts the CLI several times: far beyond Jest's default 5 s on a busy machine.
jest.setTimeout(120_000);

const project = path.join(__dirname, "fixtures", "project", "definitions.ts");

const transactions = `user_id,product_id,amount,event_time
1,10,5.5,2025-01-01 10:00:00
1,11,4.5,2025-01-02 10:00:00
2,10,10,2025-01-01 11:00:00
3,12,1.25,2025-01-03 09:00:00
`;

let workDir: string;
let source: string;
let store: string;

function mlforge(args: string[]): Promise<NodeOutcome> {
  return runNode(bin, args, { cwd: workDir, environment: { MLFORGE_TEST_SOURCE: source, MLFORGE_TEST_STORE: store } });
}

const FEATURES = ["user_total_spend", "user_daily_spend"];

/** Builds the two features; each build keeps its version (keepVersions' default, 10). */
async function build(): Promise<void> {
  const result = await mlforge(["build", "--target", project, "--features", FEATURES.join(",")]);
  expect(result.code).toBe(0);
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "mlforge-cli-reproduce-"));
  source = path.join(workDir, "transactions.csv");
  store = path.join(workDir, "store");
  await writeFile(source, transactions);
  await writeFile(path.join(workDir, "labels.csv"), "user_id,event_time,label\n1,2025-01-02 12:00:00,1\n2,2024-12-31 23:00:00,0\n3,2025-01-03 10:00:00,1\n4,2025-01-05 00:00:00,0\n");
});

afterAll(() => rm(workDir, { recursive: true, force: true }));

test("--reproduce writes the same training set after the source changed and two rebuilds; changed entity rows exit 1", async () => {
  await build();
  const written = await mlforge(["training-data", "--target", project, "--features", FEATURES.join(","), "--entities", "labels.csv", "--timestamp", "event_time", "--out", "train.parquet", "--json"]);
  expect(written.stderr).toBe("");
  expect(written.code).toBe(0);
  const { manifest } = JSON.parse(written.stdout) as { manifest: { features: Array<{ name: string; buildId: string; plan: string }>; timestamp: string } };
  expect(manifest.features.map(({ name, plan }) => [name, plan])).toEqual([
    ["user_total_spend", "keys"],
    ["user_daily_spend", "rank"],
  ]);
  expect(manifest.timestamp).toBe("event_time");

  await writeFile(source, `${transactions}2,11,100,2025-01-02 09:00:00\n`);
  await build();
  await writeFile(source, transactions.replace("5.5", "6.5"));
  await build();
  const current = await mlforge(["training-data", "--target", project, "--features", FEATURES.join(","), "--entities", "labels.csv", "--timestamp", "event_time", "--out", "now.parquet"]);
  expect(current.code).toBe(0);
  const read = (file: string) => query(`SELECT * FROM read_parquet(${literal(path.join(workDir, file))})`);
  expect(await read("now.parquet")).not.toEqual(await read("train.parquet"));

  const again = await mlforge(["training-data", "--target", project, "--reproduce", "train.parquet", "--entities", "labels.csv", "--out", "again.parquet"]);
  expect(again.stderr).toBe("");
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`  reproduced  ${path.join(workDir, "train.parquet")} (same builds, plans and entity rows)\n`);
  for (const { name, buildId } of manifest.features) expect(again.stdout).toContain(`${name} ${buildId}`);
  expect(await read("again.parquet")).toEqual(await read("train.parquet"));
  expect((await readFile(path.join(workDir, "again.parquet"))).equals(await readFile(path.join(workDir, "train.parquet")))).toBe(true);

  await writeFile(path.join(workDir, "other-labels.csv"), "user_id,event_time,label\n1,2025-01-02 12:00:00,1\n2,2024-12-31 23:00:00,1\n3,2025-01-03 10:00:00,1\n4,2025-01-05 00:00:00,0\n");
  const changed = await mlforge(["training-data", "--target", project, "--reproduce", "train.parquet", "--entities", "other-labels.csv", "--out", "changed.parquet"]);
  expect(changed.code).toBe(1);
  expect(changed.stderr).toMatch(/The entity rows are not those training set '.*train\.parquet' was made from: entity fingerprint expected [0-9a-f]{32}, got [0-9a-f]{32}\. Columns and row count \(4\) are the same/);
  expect(changed.stderr).not.toMatch(/\n\s+at /);
  expect((await stat(path.join(workDir, "changed.parquet")).catch(() => undefined))).toBeUndefined();
});

test.each([
  [["--reproduce", "train.parquet", "--features", "user_total_spend", "--entities", "labels.csv", "--out", "x.parquet"], "--reproduce takes the features, their versions, the timestamp column and the join plans from the training set's manifest: drop --features."],
  [["--reproduce", "train.parquet", "--timestamp", "event_time", "--entities", "labels.csv", "--out", "x.parquet"], "drop --timestamp."],
  [["--reproduce", "train.parquet", "--out", "x.parquet"], "training-data --reproduce needs --entities, for example `mlforge training-data --reproduce train.parquet --entities labels.parquet --out again.parquet`."],
])("training-data %j is a usage error", async (args, message) => {
  const result = await mlforge(["training-data", ...args]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
});

test("--reproduce applies to training-data only and is in its help", async () => {
  expect((await mlforge(["build", "--reproduce", "train.parquet"])).stderr).toContain("--reproduce applies to `mlforge training-data` only.");
  const help = await mlforge(["training-data", "--help"]);
  expect(help.stdout).toContain("--reproduce <file>");
});
