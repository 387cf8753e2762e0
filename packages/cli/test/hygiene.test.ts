// The CLI as a process: it ends by itself once its work is done, holding no handle open, and its
// output never shows a secret, whatever fails. Runs the built package (dist) in child processes;
// the S3 store works against the in-process s3rver.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { startS3Server, type TestS3Server } from "@mlforge/s3-test-server";
import { bin, runNode, type NodeOutcome } from "./support/cli";

const packages = path.resolve(__dirname, "../..");
const dist = (name: string) => pathToFileURL(path.join(packages, name, "dist", "index.js")).href;
/** A process that does not end within this time after starting holds something open (a build here takes about a second). */
const EXIT_WITHIN_MS = 30_000;

const BUCKET = "mlforge-cli-hygiene";
const ACCESS_KEY_ID = "AKIAFAKECLI7Q2X9LMNP";
const SECRET_ACCESS_KEY = "cLiFaKe/SeCrEt+KeY/Q2vT7mN4pL8rS1wZ6yB3c";
const SESSION_TOKEN = "CliFakeSessionToken//IQoJb3JpZ2luX2VjEJr//wEaCXVzLWVhc3Qt==";
const SECRETS = [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN];

let workDir: string;
let s3: TestS3Server;

/** Runs `node <script> ...args` in the work directory; a process still running after EXIT_WITHIN_MS is killed (and shows as signal SIGKILL). */
function node(script: string, args: string[], environment: NodeJS.ProcessEnv = {}): Promise<NodeOutcome> {
  return runNode(script, args, { cwd: workDir, environment, timeoutMs: EXIT_WITHIN_MS, killSignal: "SIGKILL" });
}

/** The handles a `run()` child held once the command resolved (it prints them last, on stderr). */
function handlesLeft(outcome: NodeOutcome): string[] {
  const line = outcome.stderr.split("\n").find((candidate) => candidate.startsWith("HANDLES "));
  expect(line).toBeDefined();
  return JSON.parse(line!.slice("HANDLES ".length)) as string[];
}

beforeAll(async () => {
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing. Build first: cd /work/main && npx turbo run build`);
  }
  s3 = await startS3Server([BUCKET]);
  workDir = await mkdtemp(path.join(tmpdir(), "mlforge-cli-hygiene-"));
  await writeFile(path.join(workDir, "transactions.csv"), "user_id,amount\nu1,10.5\nu2,7\nu1,5\n");
  const features = `
import { Definitions, feature } from ${JSON.stringify(dist("core"))};
export const spend = feature({ name: "user_total_spend", keys: ["user_id"], source: "transactions.csv" }, (source) => \`SELECT user_id, sum(amount) AS total_spend FROM \${source} GROUP BY user_id\`);
export const broken = feature({ name: "broken", keys: ["user_id"], source: "transactions.csv" }, (source) => \`SELECT user_id, sum(no_such_column) AS total FROM \${source} GROUP BY user_id\`);
export const withBroken = process.env.MLFORGE_TEST_BROKEN === "1";
`;
  await writeFile(path.join(workDir, "features.mjs"), features);
  await writeFile(
    path.join(workDir, "local.mjs"),
    `import { Definitions } from ${JSON.stringify(dist("core"))};
import { LocalStore } from ${JSON.stringify(dist("store-local"))};
import { spend, broken, withBroken } from "./features.mjs";
export const defs = new Definitions({ name: "hygiene", features: withBroken ? [spend, broken] : [spend], offlineStore: new LocalStore("local_store") });
`,
  );
  // Credentials come from the SDK's chain: the environment variables each test sets.
  await writeFile(
    path.join(workDir, "s3.mjs"),
    `import { Definitions } from ${JSON.stringify(dist("core"))};
import { S3Store } from ${JSON.stringify(dist("store-s3"))};
import { spend, broken, withBroken } from "./features.mjs";
export const defs = new Definitions({
  name: "hygiene",
  features: withBroken ? [spend, broken] : [spend],
  offlineStore: new S3Store({ bucket: process.env.MLFORGE_TEST_BUCKET, prefix: process.env.MLFORGE_TEST_PREFIX, endpoint: process.env.MLFORGE_TEST_ENDPOINT, cacheDirectory: "s3_cache" }),
});
`,
  );
  // run() without the binary's final process.exit(): the process must end by itself.
  await writeFile(
    path.join(workDir, "run.mjs"),
    `import { run } from ${JSON.stringify(dist("cli"))};
// The handles of stdout and stderr (pipes here), opened before the command runs, are not its own.
void process.stdout;
void process.stderr;
const before = process.getActiveResourcesInfo();
const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() });
process.exitCode = code;
setImmediate(() => {
  const left = process.getActiveResourcesInfo();
  for (const handle of before) if (left.includes(handle)) left.splice(left.indexOf(handle), 1);
  process.stderr.write("HANDLES " + JSON.stringify(left) + "\\n");
});
`,
  );
});

afterAll(async () => {
  await s3?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe("the CLI ends once its work is done", () => {
  test("run() leaves no handle open after build, list and inspect, failing or not, and the process ends by itself", async () => {
    for (const [args, environment, code] of [
      [["build", "--target", "local.mjs"], {}, 0],
      [["build", "--target", "local.mjs", "--force"], { MLFORGE_TEST_BROKEN: "1" }, 1],
      [["list", "--target", "local.mjs"], {}, 0],
      [["inspect", "user_total_spend", "--target", "local.mjs"], {}, 0],
      [["inspect", "broken", "--target", "local.mjs"], { MLFORGE_TEST_BROKEN: "1" }, 1],
    ] as const) {
      const outcome = await node("run.mjs", [...args], environment);
      expect({ args, signal: outcome.signal, code: outcome.code }).toEqual({ args, signal: null, code });
      expect(handlesLeft(outcome)).toEqual([]);
    }
  });

  test("the mlforge binary ends after a build into S3, whose client keeps connections alive for reuse", async () => {
    const environment = {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      MLFORGE_TEST_BUCKET: BUCKET,
      MLFORGE_TEST_PREFIX: "ends",
      MLFORGE_TEST_ENDPOINT: s3.endpoint,
    };
    const outcome = await node(bin, ["build", "--target", "s3.mjs"], environment);
    expect({ signal: outcome.signal, code: outcome.code, stderr: outcome.stderr }).toMatchObject({ signal: null, code: 0 });
    expect(outcome.stdout).toMatch(/^1 built, 0 skipped, 0 failed/m);
  });
});

describe("the CLI's output never shows a secret", () => {
  function expectNoSecret(outcome: NodeOutcome): void {
    for (const secret of SECRETS) {
      expect(outcome.stdout).not.toContain(secret);
      expect(outcome.stderr).not.toContain(secret);
    }
  }

  test("credentials S3 rejects: build, list and inspect fail without printing them", async () => {
    const environment = {
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN: SESSION_TOKEN,
      MLFORGE_TEST_BUCKET: BUCKET,
      MLFORGE_TEST_PREFIX: "rejected",
      MLFORGE_TEST_ENDPOINT: s3.endpoint,
    };
    for (const args of [
      ["build", "--target", "s3.mjs"],
      ["build", "--target", "s3.mjs", "--json"],
      ["list", "--target", "s3.mjs", "--json"],
      ["inspect", "user_total_spend", "--target", "s3.mjs"],
    ]) {
      const outcome = await node(bin, args, environment);
      expect({ args, code: outcome.code }).toEqual({ args, code: 1 });
      expect(outcome.stderr).toContain("S3 rejected the credentials (InvalidAccessKeyId)");
      expect(outcome.stderr).toContain("AWS_ACCESS_KEY_ID is set in this environment");
      expectNoSecret(outcome);
    }
  });

  test("a missing bucket, a refused endpoint and a failed feature: nothing printed shows the secret key or the session token", async () => {
    const working = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: SESSION_TOKEN, MLFORGE_TEST_ENDPOINT: s3.endpoint };
    const cases: Array<[string[], Record<string, string>, number, string]> = [
      [["build", "--target", "s3.mjs"], { ...working, MLFORGE_TEST_BUCKET: "no-such-bucket", MLFORGE_TEST_PREFIX: "x" }, 1, "NoSuchBucket"],
      [["build", "--target", "s3.mjs"], { ...working, MLFORGE_TEST_BUCKET: BUCKET, MLFORGE_TEST_PREFIX: "x", MLFORGE_TEST_ENDPOINT: "http://127.0.0.1:9" }, 1, "ECONNREFUSED"],
      [["build", "--target", "s3.mjs"], { ...working, MLFORGE_TEST_BUCKET: BUCKET, MLFORGE_TEST_PREFIX: "partly", MLFORGE_TEST_BROKEN: "1" }, 1, "no_such_column"],
      [["build", "--target", "s3.mjs", "--json"], { ...working, MLFORGE_TEST_BUCKET: BUCKET, MLFORGE_TEST_PREFIX: "partly", MLFORGE_TEST_BROKEN: "1" }, 1, "no_such_column"],
      [["list", "--target", "s3.mjs"], { ...working, MLFORGE_TEST_BUCKET: BUCKET, MLFORGE_TEST_PREFIX: "partly", MLFORGE_TEST_BROKEN: "1" }, 0, "user_total_spend"],
      [["inspect", "user_total_spend", "--target", "s3.mjs", "--json"], { ...working, MLFORGE_TEST_BUCKET: BUCKET, MLFORGE_TEST_PREFIX: "partly", MLFORGE_TEST_BROKEN: "1" }, 0, "buildId"],
    ];
    for (const [args, environment, code, shown] of cases) {
      const outcome = await node(bin, args, environment);
      expect({ args, code: outcome.code }).toEqual({ args, code });
      expect(outcome.stdout + outcome.stderr).toContain(shown);
      expectNoSecret(outcome);
    }
  });
});
