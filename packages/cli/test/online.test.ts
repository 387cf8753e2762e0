// The online commands as a user runs them: the built `mlforge` binary in a child process, the
// fixture definitions in test/fixtures/online.ts over a temp offline store and a LocalOnlineStore
// (a real redis-server, with a password, for the test that nothing prints it).
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { startRedis } from "@mlforge/redis-test-server";
import { bin, createWorkDirectory, runNode, tableRow, type NodeOutcome } from "./support/cli";

const fixtures = path.join(__dirname, "fixtures");
const online = path.join(fixtures, "online.ts");
const withoutOnlineStore = path.join(fixtures, "project", "definitions.ts");

let workDir: string;
let source: string;

/** Runs `node dist/bin.js ...args` with the fixture environment pointing at `stores` (default: stores nobody uses). */
function mlforge(args: string[], stores: { offline?: string; online?: string; redisUrl?: string } = {}): Promise<NodeOutcome> {
  return runNode(bin, args, {
    cwd: workDir,
    environment: {
      MLFORGE_TEST_SOURCE: source,
      MLFORGE_TEST_STORE: stores.offline ?? path.join(workDir, "unused-store"),
      MLFORGE_TEST_ONLINE_STORE: stores.online ?? path.join(workDir, "unused-online-store"),
      ...(stores.redisUrl === undefined ? {} : { MLFORGE_TEST_REDIS_URL: stores.redisUrl }),
    },
  });
}

async function buildIdOf(store: string, name: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(store, "_metadata", `${name}.json`), "utf8")) as { buildId: string }).buildId;
}

beforeAll(async () => {
  ({ workDir, source } = await createWorkDirectory("mlforge-cli-online-"));
});

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe("build --online, sync-online and get on a LocalOnlineStore", () => {
  let stores: { offline: string; online: string };
  beforeAll(() => {
    stores = { offline: path.join(workDir, "offline"), online: path.join(workDir, "online") };
  });

  test("build --online builds, then syncs what it built, showing both parts", async () => {
    const result = await mlforge(["build", "--online", "--target", online, "--features", "user_total_spend,user_country"], stores);
    expect(result.stderr).not.toContain("Error");
    expect(result.code).toBe(0);
    const [buildPart, syncPart] = result.stdout.split("\nOnline store:\n");
    expect(tableRow(buildPart!, "user_total_spend")?.slice(0, 3)).toEqual(["user_total_spend", "built", "3"]);
    expect(buildPart).toMatch(/^2 built, 0 skipped, 0 failed in /m);
    expect(tableRow(syncPart!, "user_total_spend")?.slice(0, 4)).toEqual(["user_total_spend", "synced", await buildIdOf(stores.offline, "user_total_spend"), "3"]);
    expect(tableRow(syncPart!, "user_country")?.slice(0, 4)).toEqual(["user_country", "synced", await buildIdOf(stores.offline, "user_country"), "3"]);
    expect(syncPart).toMatch(/^2 synced, 0 skipped, 0 failed in \d+\.\d s$/m);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^\[1\/2\] user_total_spend built 3 rows in \d+ ms$/),
      expect.stringMatching(/^\[2\/2\] user_country built 3 rows in \d+ ms$/),
      "Syncing 2 features to the online store…",
    ]);

    // Again: nothing changed, so nothing is rebuilt or re-synced.
    const again = await mlforge(["build", "--online", "--target", online, "--features", "user_total_spend,user_country", "--json"], stores);
    expect(again.code).toBe(0);
    const document = JSON.parse(again.stdout) as { skipped: Array<{ name: string }>; online: { synced: unknown[]; skipped: Array<{ name: string; buildId: string; rows: number }>; failed: unknown[] } };
    expect(document.skipped.map((entry) => entry.name)).toEqual(["user_total_spend", "user_country"]);
    expect(document.online.synced).toEqual([]);
    expect(document.online.failed).toEqual([]);
    expect(document.online.skipped).toEqual([
      expect.objectContaining({ name: "user_total_spend", status: "skipped", buildId: await buildIdOf(stores.offline, "user_total_spend"), rows: 3 }),
      expect.objectContaining({ name: "user_country", status: "skipped", buildId: await buildIdOf(stores.offline, "user_country"), rows: 3 }),
    ]);
  });

  test("sync-online: a feature not built fails (exit 1) while the others are skipped; --json carries the error", async () => {
    const result = await mlforge(["sync-online", "--target", online], stores);
    expect(result.code).toBe(1);
    expect(tableRow(result.stdout, "user_total_spend")?.slice(0, 2)).toEqual(["user_total_spend", "skipped"]);
    expect(tableRow(result.stdout, "user_daily_spend")).toEqual(["user_daily_spend", "failed", "-", "-", expect.stringMatching(/ms$/)]);
    expect(result.stdout).toContain("Failed:\n  user_daily_spend: Feature 'user_daily_spend' has not been built into the offline store");
    expect(result.stdout).toMatch(/^0 synced, 2 skipped, 1 failed in /m);
    expect(result.stderr).toMatch(/^\[2\/3\] user_daily_spend failed in \d+ ms$/m);
    expect(result.stderr).toMatch(/^\[3\/3\] user_country skipped \(already served, 3 rows\)$/m);

    const json = await mlforge(["sync-online", "--target", online, "--json", "--features", "user_daily_spend"], stores);
    expect(json.code).toBe(1);
    const document = JSON.parse(json.stdout) as { failed: Array<{ name: string; buildId: string; error: { name: string; message: string } }> };
    expect(document.failed).toEqual([
      expect.objectContaining({ name: "user_daily_spend", status: "failed", buildId: "", rows: 0, error: { name: "FeatureNotBuiltError", message: expect.stringContaining("mlforge build --features user_daily_spend") } }),
    ]);
  });

  test("sync-online syncs what build built, --tags selects and --force re-syncs", async () => {
    expect((await mlforge(["build", "--target", online, "--features", "user_daily_spend"], stores)).code).toBe(0);
    const first = await mlforge(["sync-online", "--target", online, "--tags", "users"], stores);
    expect(first.stderr).not.toContain("Error");
    expect(first.code).toBe(0);
    expect(tableRow(first.stdout, "user_daily_spend")?.slice(0, 4)).toEqual(["user_daily_spend", "synced", await buildIdOf(stores.offline, "user_daily_spend"), "3"]);
    expect(tableRow(first.stdout, "user_total_spend")?.[1]).toBe("skipped");
    expect(first.stdout).not.toContain("user_country");
    expect(first.stdout).toMatch(/^1 synced, 1 skipped, 0 failed in /m);

    const forced = await mlforge(["sync-online", "--target", online, "--features", "user_total_spend", "--force", "--json"], stores);
    expect(forced.code).toBe(0);
    const document = JSON.parse(forced.stdout) as { synced: Array<{ name: string; rows: number }>; skipped: unknown[] };
    expect(document.synced.map(({ name, rows }) => ({ name, rows }))).toEqual([{ name: "user_total_spend", rows: 3 }]);
    expect(document.skipped).toEqual([]);
  });

  test("get: a table, and --json with BIGINT beyond 2^53 as a string, timestamps as ISO 8601 and nulls for unknown entities", async () => {
    const table = await mlforge(
      ["get", "user_total_spend,user_daily_spend.spend,user_country.big_id", "--entity", "user_id=1,country=DE", "--entity", "user_id=3,country=DE", "--entity", "user_id=9,country=DE", "--target", online],
      stores,
    );
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n").map((line) => line.trim().split(/\s{2,}/));
    expect(lines[0]).toEqual(["user_id", "country", "total_spend", "purchases", "spend", "big_id"]);
    expect(lines.slice(2)).toEqual([
      ["1", "DE", "10", "2", "4.5", "9007199254740994"],
      ["3", "DE", "4", "2", "4", "9007199254740996"],
      ["9", "DE", "null", "null", "null", "null"],
    ]);

    const json = await mlforge(["get", "user_daily_spend,user_country", "--entity", "user_id=1,country=DE", "--entity", "user_id=2,country=FR", "--json", "--target", online], stores);
    expect(json.code).toBe(0);
    // Exactly this text: 9007199254740994 would not survive a round trip through a number.
    expect(json.stdout).toContain('"big_id": "9007199254740994"');
    expect(JSON.parse(json.stdout)).toEqual({
      rows: [
        { user_id: "1", country: "DE", day: "2025-01-02T00:00:00.000Z", spend: 4.5, big_id: "9007199254740994", last_seen: "2025-01-02T10:00:00.000Z" },
        { user_id: "2", country: "FR", day: "2025-01-01T00:00:00.000Z", spend: 10, big_id: "9007199254740995", last_seen: "2025-01-01T11:00:00.000Z" },
      ],
    });
  });

  test("get: a key value of the wrong type and an unknown feature exit 1 with core's message", async () => {
    const wrongType = await mlforge(["get", "user_total_spend", "--entity", "user_id=abc", "--target", online], stores);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stdout).toBe("");
    expect(wrongType.stderr).toMatch(/^Error: .*user_id.*integer/m);
    expect(wrongType.stderr).not.toMatch(/\n\s+at /);

    const unknown = await mlforge(["get", "user_spend", "--entity", "user_id=1", "--target", online], stores);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Feature 'user_spend' is not defined. Available: user_total_spend, user_daily_spend, user_country.");
  });
});

describe("definitions without an onlineStore", () => {
  test.each([
    [["sync-online"], "syncOnline needs an online store."],
    [["get", "user_total_spend", "--entity", "user_id=1"], "getOnlineFeatures needs an online store."],
    [["build", "--online"], "build({ online: true }) needs an online store."],
  ])("mlforge %j exits 1 with core's message, and builds nothing", async (args, message) => {
    const offline = path.join(workDir, `no-online-${args[0]}`);
    const result = await mlforge([...args, "--target", withoutOnlineStore], { offline });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`Error: ${message} Pass one to the Definitions, for example onlineStore: new LocalOnlineStore("./online_store") from @mlforge/online-local.`);
    expect(existsSync(offline)).toBe(false);
  });
});

describe("online command lines", () => {
  test.each([
    [["get", "--entity", "user_id=1"], "get needs a feature list (feature or feature.column, comma-separated), for example `mlforge get user_total_spend --entity user_id=u1`."],
    [["get", ",", "--entity", "user_id=1"], "get needs features, for example `mlforge get user_total_spend,user_spend_7d.spend_7d --entity user_id=u1`."],
    [["get", "user_total_spend"], "get needs --entity, the key values of each entity to read"],
    [["get", "user_total_spend", "--entity", "u1"], "--entity 'u1' needs column=value pairs, for example --entity user_id=u1 (composite keys: --entity user_id=u1,country=DE)."],
    [["get", "user_total_spend", "--entity", "=u1"], "--entity '=u1' needs column=value pairs"],
    [["get", "user_total_spend", "--entity", "user_id=1,"], "--entity 'user_id=1,' needs column=value pairs"],
    [["get", "user_total_spend", "--entity", "user_id="], "--entity 'user_id=' gives column 'user_id' no value"],
    [["get", "user_total_spend", "--entity", "user_id=1,user_id=2"], "--entity 'user_id=1,user_id=2' gives column 'user_id' twice. Give one --entity per entity, for example --entity user_id=u1 --entity user_id=u2."],
    [["get", "a", "b", "--entity", "user_id=1"], "get takes one feature list"],
    [["build", "--entity", "user_id=1"], "--entity applies to `mlforge get` only."],
    [["list", "--online"], "--online applies to `mlforge build` only."],
    [["sync-online", "user_total_spend"], "sync-online takes no arguments"],
    [["sync-online", "--shard", "1/2"], "--shard applies to `mlforge build` only."],
  ])("mlforge %j is a usage error (exit 2)", async (args, message) => {
    const result = await mlforge(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("mlforge --help");
  });

  test("--help lists the online commands and flags", async () => {
    const help = await mlforge(["--help"]);
    expect(help.code).toBe(0);
    for (const text of ["sync-online", "get <features>", "--entity <col=v>", "--online"]) expect(help.stdout).toContain(text);
    const get = await mlforge(["get", "--help"]);
    expect(get.stdout).toMatch(/^Usage: mlforge get <features> \[options\]/);
    expect(get.stdout).toContain("--entity user_id=u1,country=DE");
  });
});

describe("a Redis URL's password never shows", () => {
  test("get and sync-online against a password-protected redis-server that was killed fail without printing the password", async () => {
    const password = "cli-Redis-pa55:w0rd/secret";
    const server = await startRedis({ password });
    const stores = { offline: path.join(workDir, "redis-offline"), online: path.join(workDir, "unused-online"), redisUrl: server.url };
    const outcomes: NodeOutcome[] = [];
    try {
      // Working first, so the failures below are the server going away, not a bad setup.
      const working = await mlforge(["build", "--online", "--target", online, "--features", "user_total_spend"], stores);
      expect(working.stderr).not.toContain("Error");
      expect(working.code).toBe(0);
      outcomes.push(working);
      await server.kill();
      for (const args of [
        ["get", "user_total_spend", "--entity", "user_id=1"],
        ["get", "user_total_spend", "--entity", "user_id=1", "--json"],
        ["sync-online", "--force"],
        ["sync-online", "--json"],
        ["build", "--online", "--features", "user_total_spend", "--force"],
      ]) {
        const outcome = await mlforge([...args, "--target", online], stores);
        expect({ args, code: outcome.code }).toEqual({ args, code: 1 });
        expect(outcome.stderr).toMatch(/^Error: RedisOnlineStore at redis:\/\/127\.0\.0\.1:\d+\/0 cannot be reached/m);
        outcomes.push(outcome);
      }
    } finally {
      await server.stop();
    }
    for (const outcome of outcomes) {
      for (const secret of [password, encodeURIComponent(password), "pa55"]) {
        expect(outcome.stdout).not.toContain(secret);
        expect(outcome.stderr).not.toContain(secret);
      }
    }
  });
});
