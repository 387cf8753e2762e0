// `mlforge versions` and `mlforge rollback` as a user runs them: the built binary in a child
// process, the fixture project over a temp LocalStore.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { bin, runNode, type NodeOutcome } from "./support/cli";

const project = path.join(__dirname, "fixtures", "project", "definitions.ts");

let workDir: string;
let source: string;
let store: string;

/** Runs `node dist/bin.js ...args` on the fixture project over `store`. */
function mlforge(args: string[]): Promise<NodeOutcome> {
  return runNode(bin, [...args, "--target", project], { cwd: workDir, environment: { MLFORGE_TEST_SOURCE: source, MLFORGE_TEST_STORE: store } });
}

/** The build ids kept for `name`, oldest first, from the store's `_versions/` directory. */
async function keptIds(name: string): Promise<string[]> {
  const files = await readdir(path.join(store, "_versions", name)).catch(() => [] as string[]);
  return files.filter((file) => file.endsWith(".json")).map((file) => file.slice(0, -".json".length)).sort();
}

async function currentBuildId(name: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(store, "_metadata", `${name}.json`), "utf8")) as { buildId: string }).buildId;
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing. Build the CLI first: npx turbo run build --filter=@mlforge/cli...`);
  workDir = await mkdtemp(path.join(tmpdir(), "mlforge-cli-versions-"));
  source = path.join(workDir, "transactions.csv");
  store = path.join(workDir, "store");
  // user 1 spends 10, user 2 spends 10, user 3 spends 4.
  await writeFile(source, "user_id,product_id,amount,event_time\n1,10,5.5,2025-01-01 10:00:00\n1,11,4.5,2025-01-02 10:00:00\n2,10,10,2025-01-01 11:00:00\n3,12,1.25,2025-01-03 09:00:00\n3,10,2.75,2025-01-03 18:00:00\n");
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

test("versions lists the kept builds newest first with the current one marked; rollback restores one, and says what it did", async () => {
  const before = await mlforge(["versions", "user_total_spend"]);
  expect(before).toMatchObject({ code: 0, stdout: "Feature 'user_total_spend' has no versions: it has not been built yet. Run `mlforge build --features user_total_spend`.\n" });
  expect(JSON.parse((await mlforge(["versions", "user_total_spend", "--json"])).stdout)).toEqual([]);

  expect((await mlforge(["build", "--features", "user_total_spend"])).code).toBe(0);
  expect((await mlforge(["build", "--features", "user_total_spend", "--force"])).code).toBe(0);
  const [older, newer] = await keptIds("user_total_spend");

  const listed = await mlforge(["versions", "user_total_spend"]);
  expect(listed.code).toBe(0);
  const lines = listed.stdout.split("\n");
  expect(lines[0]!.trim().split(/\s{2,}/)).toEqual(["build id", "built at", "rows", "size", "fingerprint"]);
  expect(lines[2]).toMatch(new RegExp(`^\\* {2}${newer} {2}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC +3 +[\\d.]+ (B|KiB) {2}[0-9a-f]{12}$`));
  expect(lines[3]).toMatch(new RegExp(`^ {3}${older} `));
  expect(listed.stdout).toContain("\n* current version. Restore another with `mlforge rollback user_total_spend --to <build id>`.\n");
  const json = JSON.parse((await mlforge(["versions", "user_total_spend", "--json"])).stdout) as Array<{ buildId: string; current: boolean; rows: number }>;
  expect(json.map((version) => [version.buildId, version.current, version.rows])).toEqual([
    [newer, true, 3],
    [older, false, 3],
  ]);

  const dry = await mlforge(["rollback", "user_total_spend", "--previous", "--dry-run"]);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(new RegExp(`^Would roll back user_total_spend to ${older} \\(built .* UTC, 3 rows\\),\\nreplacing ${newer} .*\\nDry run: nothing was changed\\.\\n$`));
  expect(await currentBuildId("user_total_spend")).toBe(newer);

  const rolled = await mlforge(["rollback", "user_total_spend", "--previous"]);
  expect(rolled).toMatchObject({ code: 0, stderr: "" });
  expect(rolled.stdout).toMatch(new RegExp(`^Rolled back user_total_spend to ${older} \\(built .* UTC, 3 rows\\),\\nreplacing ${newer} `));
  expect(rolled.stdout).toContain("The next `mlforge sync-online` serves it online");
  expect(await currentBuildId("user_total_spend")).toBe(older);
  expect((await mlforge(["versions", "user_total_spend"])).stdout.split("\n").slice(2, 4).map((line) => line.slice(0, 3))).toEqual(["   ", "*  "]);

  const back = JSON.parse((await mlforge(["rollback", "user_total_spend", "--to", newer!, "--json"])).stdout) as Record<string, unknown>;
  expect(back).toMatchObject({ name: "user_total_spend", dryRun: false, restored: { buildId: newer }, replaced: { buildId: older } });
  expect(await currentBuildId("user_total_spend")).toBe(newer);
});

test("rolling back to the current version or to an unknown one exits 1 with core's message", async () => {
  expect((await mlforge(["build", "--features", "product_popularity"])).code).toBe(0);
  const current = await currentBuildId("product_popularity");
  const same = await mlforge(["rollback", "product_popularity", "--to", current]);
  expect(same.code).toBe(1);
  expect(same.stderr).toContain(`Error: Feature 'product_popularity' is already at version '${current}': it is the current one, so there is nothing to roll back.`);
  const unknown = await mlforge(["rollback", "product_popularity", "--to", "0123456789abcdef"]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain(`Error: Feature 'product_popularity' has no version '0123456789abcdef' in the offline store (${store}). Kept versions, newest first: ${current}.`);
  const nothingOlder = await mlforge(["rollback", "product_popularity", "--previous"]);
  expect(nothingOlder.code).toBe(1);
  expect(nothingOlder.stderr).toContain("has no kept version older than the current one");
});

test.each([
  [["rollback", "user_total_spend"], "rollback needs the version to restore: --to <buildId> or --previous"],
  [["rollback", "user_total_spend", "--previous", "--to", "abc"], "rollback takes --to <buildId> or --previous, not both."],
  [["rollback", "--previous"], "rollback needs a feature name, for example `mlforge rollback user_total_spend --previous`."],
  [["versions"], "versions needs a feature name, for example `mlforge versions user_total_spend`."],
  [["build", "--dry-run"], "--dry-run applies to `mlforge rollback` only."],
])("mlforge %j is a usage error (exit 2)", async (args, message) => {
  const result = await mlforge(args);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(`Error: ${message}`);
});

test("help lists both commands and rollback's flags", async () => {
  const help = await mlforge(["--help"]);
  expect(help.stdout).toMatch(/\n {2}versions <feature> +List the kept versions \(builds\) of a feature, newest first, the current one marked\n/);
  expect(help.stdout).toMatch(/\n {2}rollback <feature> +Make a kept version of a feature current again/);
  const rollback = await mlforge(["rollback", "--help"]);
  expect(rollback.stdout).toContain("Usage: mlforge rollback <feature> [options]");
  expect(rollback.stdout).toMatch(/\n {2}--to <buildId> +the build id of the version to restore/);
  expect(rollback.stdout).toMatch(/\n {2}--previous +restore the newest kept version older than the current one/);
  expect(rollback.stdout).toMatch(/\n {2}--dry-run +say what would be restored and change nothing/);
});
